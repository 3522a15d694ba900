-- Takes one badge for an attempt and commits it in_flight, with its issue_attempt audit
-- row, BEFORE Credly is called: one statement, so one round trip and one commit.
-- A pending row can be taken by anyone; an in_flight row only by a later try of the task
-- that left it (its own crashed attempt) or once its lease expired (a dead worker).
-- FOR UPDATE makes two claimers queue, and the second re-checks the row and gets nothing.
-- The protocol: docs/exactly-once.md.
WITH target AS (
    SELECT issuance_id, state AS previous_state
    FROM badging.issuance
    WHERE issuance_id = %(issuance_id)s
      AND (state = 'pending'
           OR (state = 'in_flight'
               AND (claimed_by = %(holder)s
                    OR claimed_at < now() - make_interval(secs => %(lease_seconds)s))))
    FOR UPDATE
),
claimed AS (
    UPDATE badging.issuance i
    SET state      = 'in_flight',
        attempts   = i.attempts + 1,
        claimed_by = %(holder)s,
        claimed_at = now(),
        updated_at = now()
    FROM target
    WHERE i.issuance_id = target.issuance_id
    RETURNING target.previous_state, i.attempts
),
audited AS (
    INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                                   certification_id, issuance_id, event, detail)
    SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
           %(certification_id)s, %(issuance_id)s, %(event)s,
           jsonb_build_object('attempt', attempts,
                              'recovering', previous_state = 'in_flight')
    FROM claimed
)
SELECT previous_state, attempts FROM claimed;
