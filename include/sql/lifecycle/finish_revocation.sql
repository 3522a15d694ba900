-- Ends this holder's revocation attempt, with its audit row, in one statement: `revoked`
-- (the ledger's badge too), `failed` for good, or back to `planned` for a retry. A claim
-- taken over (lease passed) no longer matches holder and attempt: nothing changes.
WITH finished AS (
    UPDATE badging.revocation
    SET revocation_state = %(revocation_state)s,
        last_error     = %(error)s,
        revoked_run_id = CASE WHEN %(revocation_state)s = 'revoked' THEN %(run_id)s END,
        revoked_at     = CASE WHEN %(revocation_state)s = 'revoked' THEN now() END,
        claimed_by     = NULL,
        claimed_at     = NULL,
        updated_at     = now()
    WHERE revocation_id = %(revocation_id)s
      AND revocation_state = 'in_flight'
      AND claimed_by = %(holder)s
      AND attempts = %(attempt)s
    RETURNING issuance_id, credly_badge_id, reason
),
badge AS (
    UPDATE badging.issuance i
    SET state = 'revoked', unjustified_since = NULL, unjustified_seen = NULL,
        updated_at = now()
    FROM finished f
    WHERE %(revocation_state)s = 'revoked'
      AND i.issuance_id = f.issuance_id AND i.credly_badge_id = f.credly_badge_id
      AND i.state = 'issued'
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       %(certification_id)s, issuance_id, %(event)s, coalesce(%(error)s, reason), %(detail)s
FROM finished;
