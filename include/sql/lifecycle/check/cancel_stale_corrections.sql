-- Cancels every open change (planned or held) tonight's findings no longer back, before
-- anything is planned (audit revoke_cancelled): a revocation whose badge its own entries
-- earn again, or that only a reference table refuses now (a person decides those); a
-- requested one whose badge is earned again; a name or email correction whose target is no
-- longer what CTIMS says (undone, corrected again, or unknown tonight). What is due now is
-- planned next. A change in flight is left to its holder.
WITH cancelled AS (
    UPDATE badging.revocation r
    SET revocation_state = 'cancelled', updated_at = now()
    FROM badge_justification j
    WHERE j.issuance_id = r.issuance_id
      AND r.revocation_state IN ('planned', 'held')
      AND CASE
              WHEN r.action = 'revoke' AND r.requested_by IS NOT NULL THEN j.justified
              WHEN r.action = 'revoke' THEN NOT EXISTS (
                  SELECT 1 FROM badging.badge_finding f
                  WHERE f.issuance_id = r.issuance_id AND f.kind = 'unjustified')
              ELSE NOT EXISTS (
                  SELECT 1 FROM badging.badge_finding f
                  WHERE f.issuance_id = r.issuance_id AND f.kind = 'recipient_changed'
                    AND f.detail = r.recipient_digest || ':' || r.name_digest)
          END
    RETURNING r.issuance_id, r.reason
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       i.certification_id, c.issuance_id, 'revoke_cancelled', c.reason
FROM cancelled c JOIN badging.issuance i USING (issuance_id);
