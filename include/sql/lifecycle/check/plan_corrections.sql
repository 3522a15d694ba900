-- Plans a change of every issued badge whose student's address or name was corrected in
-- CTIMS (docs/recipient-corrections.md), once the new usable value has held for the grace:
-- a `recipient_changed` finding seen by at least `grace_days` nightly runs in a row, the
-- first at least grace_days x 24 hours before tonight's. A changed address -> move (the
-- revoke task asks Credly whether the earner accepted it first), else a changed name ->
-- replace. Audited move_planned / replace_planned. A badge with a change already open, or
-- whose same change failed for good, gets none (no daily retry loop).
WITH due AS (
    INSERT INTO badging.revocation (issuance_id, credly_badge_id, site_code, reason, action,
                                    certification_id, recipient_digest, name_digest,
                                    planned_run_id, run_id)
    SELECT i.issuance_id, i.credly_badge_id, f.site_code, o.reason,
           CASE WHEN o.reason = 'email_corrected' THEN 'move' ELSE 'replace' END,
           n.certification_id, n.recipient_digest, n.name_digest, %(run_id)s, %(run_id)s
    FROM badging.badge_finding f
    JOIN badge_observed o ON o.issuance_id = f.issuance_id AND o.kind = f.kind
    JOIN recipient_now n ON n.issuance_id = f.issuance_id
    JOIN badging.issuance i ON i.issuance_id = f.issuance_id AND i.state = 'issued'
    WHERE f.kind = 'recipient_changed'
      AND f.last_day = %(day)s
      AND f.nights >= %(grace_days)s
      AND f.last_seen_at >= f.first_seen_at + make_interval(days => %(grace_days)s)
      AND NOT EXISTS (SELECT 1 FROM badging.revocation failed
                      WHERE failed.issuance_id = i.issuance_id
                        AND failed.credly_badge_id = i.credly_badge_id
                        AND failed.revocation_state = 'failed'
                        AND failed.recipient_digest = n.recipient_digest
                        AND failed.name_digest = n.name_digest)
    ON CONFLICT (issuance_id) WHERE revocation_state IN ('planned', 'held', 'in_flight') DO NOTHING
    RETURNING issuance_id, action, reason
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       i.certification_id, d.issuance_id,
       CASE WHEN d.action = 'move' THEN 'move_planned' ELSE 'replace_planned' END AS event,
       d.reason
FROM due d JOIN badging.issuance i USING (issuance_id);
