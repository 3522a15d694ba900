-- The staged rows this run's volume gate judges (it claimed them), and whether each changed
-- before the run's first day (a late row or an unjudged lookback row).
SELECT s.certification_id, s.updated_at < %(first_day_start)s AS earlier
FROM badging.staged_certification s
JOIN badging.volume_judgement j
  ON j.certification_id = s.certification_id AND j.updated_at = s.updated_at
WHERE s.run_id = %(run_id)s AND j.run_id = %(run_id)s
ORDER BY s.certification_id;
