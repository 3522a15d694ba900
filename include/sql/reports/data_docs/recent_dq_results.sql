-- Scrubbed suite results of the latest runs, for the Data Docs site.
SELECT r.run_id, r.suite, r.result
FROM badging.dq_result r
JOIN (
    SELECT run_id
    FROM badging.dq_result
    GROUP BY run_id
    ORDER BY max(validated_at) DESC
    LIMIT %(runs)s
) recent USING (run_id)
ORDER BY r.validated_at, r.suite;
