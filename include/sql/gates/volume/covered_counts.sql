-- The run's staged rows an earlier run's volume gate judged: let through (or released), and
-- held (hold.sql).
SELECT count(*) FILTER (WHERE s.decision IS DISTINCT FROM 'held') AS judged_before,
       count(*) FILTER (WHERE s.decision = 'held')                AS held
FROM badging.staged_certification s
JOIN badging.volume_judgement j
  ON j.certification_id = s.certification_id AND j.updated_at = s.updated_at
WHERE s.run_id = %(run_id)s AND j.run_id <> %(run_id)s;
