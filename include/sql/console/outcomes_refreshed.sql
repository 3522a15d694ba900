-- When the report task last brought the outcome summary up to date.
SELECT refreshed_at, run_id FROM badging.outcome_refresh;
