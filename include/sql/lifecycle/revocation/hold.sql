-- The operator rejected (or did not answer) the run's revocations: they stay open, held,
-- to be asked again by the next run (audit revoke_held, once per run and badge). With
-- only_held (the gate passed without an operator's approval of this run), only the ones held
-- before stay held: they run on an approval only (docs/lifecycle.md).
WITH held AS (
    UPDATE badging.revocation r
    SET revocation_state = 'held', updated_at = now()
    WHERE r.run_id = %(run_id)s
      AND (r.revocation_state = 'held'
           OR (r.revocation_state = 'planned' AND NOT %(only_held)s))
    RETURNING r.issuance_id, r.reason
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       i.certification_id, h.issuance_id, 'revoke_held', h.reason, %(detail)s
FROM held h JOIN badging.issuance i USING (issuance_id)
WHERE NOT EXISTS (SELECT 1 FROM badging.audit_log a
                  WHERE a.run_id = %(run_id)s AND a.issuance_id = h.issuance_id
                    AND a.event = 'revoke_held');
