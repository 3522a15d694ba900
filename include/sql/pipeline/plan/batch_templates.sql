-- The Credly templates the run's batches will issue.
SELECT DISTINCT i.credly_template_id
FROM badging.run_batch b
JOIN badging.issuance i ON i.issuance_id = b.issuance_id
WHERE b.run_id = %(run_id)s
ORDER BY 1;
