-- The run's suite results and their Data Docs pages (NULL: not written yet).
SELECT suite, docs_page
FROM badging.dq_result
WHERE run_id = %(run_id)s
ORDER BY suite;
