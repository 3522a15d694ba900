-- One decision or attempt on one row (the issue stage, row by row).
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason, detail)
VALUES (%(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
        %(certification_id)s, %(issuance_id)s, %(event)s, %(reason)s, %(detail)s);
