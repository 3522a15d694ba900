-- The live rows hold recipient details: gone as soon as the check is done.
DELETE FROM badging.staged_certification WHERE run_id = %(live_run_id)s;
