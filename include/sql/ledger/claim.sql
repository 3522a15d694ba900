-- Takes one badge for an attempt and commits it in_flight, with its issue_attempt audit
-- row, BEFORE Credly is called: one statement, so one round trip and one commit.
-- A pending row can be taken by anyone; an in_flight row only by its own holder or once
-- its lease expired: its holder renews the claim while it lives, so an expired lease means
-- a dead worker, or a stale try of a task (the holder names the try).
-- Returned: the attempt number, which fences every later statement of this attempt, and
-- whether to look the badge up in Credly before any POST (a claim taken from a crashed
-- attempt, or a row whose last attempt may have landed).
-- FOR UPDATE makes two claimers queue, and the second re-checks the row and gets nothing.
-- The protocol: docs/exactly-once.md.
WITH target AS (
    SELECT issuance_id, state = 'in_flight' OR lookup_first AS look_up_first
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
    RETURNING target.look_up_first, i.attempts
),
audited AS (
    INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                                   certification_id, issuance_id, event, detail)
    SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
           %(certification_id)s, %(issuance_id)s, %(event)s,
           jsonb_build_object('attempt', attempts,
                              'recovering', look_up_first)
           || %(swept_detail)s
    FROM claimed
)
SELECT look_up_first, attempts FROM claimed;
