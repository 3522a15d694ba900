-- Ends pending badges whose certification CTIMS no longer has (deleted since planned), or
-- whose student CTIMS names no usable recipient for now: failed, with the reason, and
-- audited. The nightly check reopens the latter once the student's record is usable
-- (lifecycle/check/reopen_failed.sql). Only pending ones: an in_flight row may have
-- reached Credly and is settled by its lookup first. A corrected entry reopens the badge
-- (pipeline/plan/reopen_failed.sql).
WITH failed AS (
    UPDATE badging.issuance
    SET state = 'failed', last_error = %(error)s, updated_at = now()
    WHERE issuance_id = ANY(%(issuance_ids)s)
      AND state = 'pending'
    RETURNING issuance_id, certification_id
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       certification_id, issuance_id, 'failed', %(error)s,
       CASE WHEN issuance_id = ANY(%(swept_ids)s) THEN '{"swept": true}'::jsonb
            ELSE '{}'::jsonb END
FROM failed;
