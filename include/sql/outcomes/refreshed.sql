-- When the summary was last brought up to date, and by which run's report.
INSERT INTO badging.outcome_refresh (singleton, refreshed_at, run_id)
VALUES (true, %(refreshed_at)s, %(run_id)s)
ON CONFLICT (singleton) DO UPDATE
SET refreshed_at = EXCLUDED.refreshed_at, run_id = EXCLUDED.run_id;
