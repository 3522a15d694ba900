-- One suite's scrubbed result (no offending values) for Data Docs and the trend.
INSERT INTO badging.dq_result (run_id, suite, severity, success, result, reason)
VALUES (%(run_id)s, %(suite)s, %(severity)s, %(success)s, %(result)s, %(reason)s);
