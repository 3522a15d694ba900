-- Takes one badge for an attempt and commits it in_flight, with its issue_attempt audit
-- row, BEFORE Credly is called: one statement, so one round trip and one commit.
-- A pending row can be taken by anyone; an in_flight row only by its own holder or once
-- its lease expired (badging.take_lease, the one takeover rule: docs/exactly-once.md).
-- Returned: the attempt number, which fences every later statement of this attempt, and
-- whether to look the badge up in Credly before any POST (a claim taken from a crashed
-- attempt, or a row whose last attempt may have landed).
-- FOR UPDATE makes two claimers queue, and the second re-checks the row and gets nothing.
WITH target AS (
    SELECT issuance_id, state = 'in_flight' OR lookup_first AS look_up_first,
           attempts + 1 AS attempt, state <> 'in_flight' AS free
    FROM badging.issuance
    WHERE issuance_id = %(issuance_id)s
      AND state IN ('pending', 'in_flight')
    FOR UPDATE
),
leased AS (
    SELECT t.* FROM target t
    WHERE badging.take_lease('issuance', t.issuance_id, %(holder)s, t.attempt, t.free,
                             %(lease_seconds)s)
),
claimed AS (
    UPDATE badging.issuance i
    SET state      = 'in_flight',
        attempts   = leased.attempt,
        updated_at = now()
    FROM leased
    WHERE i.issuance_id = leased.issuance_id
    RETURNING leased.look_up_first, i.attempts
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
