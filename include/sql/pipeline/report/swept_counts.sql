-- Badges the run swept in from other runs and settled (issued or adopted, or failed) itself.
SELECT count(*) FILTER (WHERE event IN ('issued', 'adopted')) AS issued,
       count(*) FILTER (WHERE event = 'failed') AS failed
FROM badging.audit_log
WHERE run_id = %(run_id)s
  AND detail ? 'swept';
