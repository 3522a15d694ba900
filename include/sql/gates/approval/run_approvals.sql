-- The run's gate decisions, for the report's log: who decided what, and when.
SELECT gate, event, decided_by, decided_at
FROM badging.approval
WHERE run_id = %(run_id)s
ORDER BY gate;
