SELECT coalesce(decision, 'undecided') AS decision, count(*)
FROM badging.staged_certification
WHERE run_id = %(run_id)s
GROUP BY 1 ORDER BY 1;
