-- The run's scrubbed suite results, with the reason a critical check failed the run.
SELECT suite, severity, success, reason, result
FROM badging.dq_result
WHERE run_id = %(run_id)s
ORDER BY suite;
