SELECT count(*) FROM badging.staged_certification WHERE run_id = %(run_id)s;
