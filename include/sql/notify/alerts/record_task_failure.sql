-- One line about a task's final failure, for the operators' alert (badging/notify/alerts.py).
INSERT INTO badging.task_failure (run_id, task_id, map_index, try_number, reason)
VALUES (%(run_id)s, %(task_id)s, %(map_index)s, %(try_number)s, %(reason)s)
ON CONFLICT (run_id, task_id, map_index, try_number) DO UPDATE SET reason = EXCLUDED.reason
