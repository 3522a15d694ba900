-- A run-level decision of the check in the append-only audit log (the source guard tripped,
-- or an operator accepted the change), once per run and event: a retried check adds nothing.
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               event, reason, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       %(event)s, %(reason)s, %(detail)s
WHERE NOT EXISTS (SELECT 1 FROM badging.audit_log
                  WHERE run_id = %(run_id)s AND event = %(event)s AND issuance_id IS NULL);
