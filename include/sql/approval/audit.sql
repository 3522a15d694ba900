-- The decision in the append-only audit log: who (detail.decided_by), when, on what counts.
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               event, detail)
VALUES (%(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
        %(event)s, %(detail)s);
