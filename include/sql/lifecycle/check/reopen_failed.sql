-- A badge that failed for want of a usable recipient (an address cleared in CTIMS, a student
-- row missing from the replica for a night), or that Credly refused for the recipient it
-- had, is tried again when the student's record changes: its usable recipient tonight
-- differs from the one the failure recorded (NULL: none was usable). Not only when the
-- certification row moves (pipeline/plan/reopen_failed.sql): a fixed address never moves it.
-- A failure for any other cause recorded this very recipient, so nothing loops.
WITH reopened AS (
    UPDATE badging.issuance i
    SET state = 'pending', last_error = NULL, certification_id = n.certification_id,
        updated_at = now()
    FROM recipient_now n
    WHERE n.issuance_id = i.issuance_id
      AND i.state = 'failed'
      AND n.problem IS NULL
      AND (n.recipient_digest IS DISTINCT FROM i.recipient_digest
           OR n.name_digest IS DISTINCT FROM i.name_digest)
    RETURNING i.issuance_id, i.certification_id
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       certification_id, issuance_id, 'reissue_planned', NULL
FROM reopened;
