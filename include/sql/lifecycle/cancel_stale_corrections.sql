-- An open name or email correction whose target is no longer what CTIMS says (the fix was
-- undone or corrected again), or whose badge lost its justification, is cancelled (audit
-- revoke_cancelled) before plan_corrections.sql plans what is right now; a revocation, if
-- due, takes its place.
WITH cancelled AS (
    UPDATE badging.revocation r
    SET revocation_state = 'cancelled', claimed_by = NULL, claimed_at = NULL, updated_at = now()
    FROM badge_justification j
    LEFT JOIN recipient_now n ON n.issuance_id = j.issuance_id
    WHERE j.issuance_id = r.issuance_id
      AND r.action <> 'revoke'
      AND r.revocation_state IN ('planned', 'held')
      AND (n.issuance_id IS NULL
           OR r.recipient_digest <> n.recipient_digest OR r.name_digest <> n.name_digest)
    RETURNING r.issuance_id, r.reason
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       i.certification_id, c.issuance_id, 'revoke_cancelled', c.reason
FROM cancelled c JOIN badging.issuance i USING (issuance_id);
