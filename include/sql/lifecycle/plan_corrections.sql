-- Plans a change of every issued badge whose student's address or name was corrected in
-- CTIMS since issuance (docs/recipient-corrections.md): a changed address -> move (the
-- revoke task asks Credly whether the earner accepted it first), else a changed name ->
-- replace. Audited move_planned / replace_planned. A badge with a change already open, or
-- whose same change failed for good, gets none (no daily retry loop).
WITH due AS (
    INSERT INTO badging.revocation (issuance_id, credly_badge_id, site_code, reason, action,
                                    certification_id, recipient_digest, name_digest,
                                    planned_run_id, run_id)
    SELECT i.issuance_id, i.credly_badge_id, j.site_code,
           CASE WHEN n.recipient_digest <> i.recipient_digest THEN 'email_corrected'
                ELSE 'name_corrected' END AS reason,
           CASE WHEN n.recipient_digest <> i.recipient_digest THEN 'move'
                ELSE 'replace' END,
           n.certification_id, n.recipient_digest, n.name_digest, %(run_id)s, %(run_id)s
    FROM badging.issuance i
    JOIN recipient_now n ON n.issuance_id = i.issuance_id
    JOIN badge_justification j ON j.issuance_id = i.issuance_id
    WHERE i.state = 'issued'
      AND (n.recipient_digest <> i.recipient_digest OR n.name_digest <> i.name_digest)
      AND NOT EXISTS (SELECT 1 FROM badging.revocation f
                      WHERE f.issuance_id = i.issuance_id
                        AND f.credly_badge_id = i.credly_badge_id
                        AND f.revocation_state = 'failed'
                        AND f.recipient_digest = n.recipient_digest
                        AND f.name_digest = n.name_digest)
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
