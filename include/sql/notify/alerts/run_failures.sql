-- The run's failed tasks since it (re)started, first first: the alert names it the red task.
SELECT task_id, map_index, reason
FROM badging.task_failure
WHERE run_id = %(run_id)s AND failed_at >= %(since)s AND task_id <> %(except_task)s
ORDER BY failed_at
LIMIT 10
