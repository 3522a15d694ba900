-- Makes extract re-runnable: a run's staging and quarantine start again from nothing.
DELETE FROM badging.staged_certification WHERE run_id = %(run_id)s;
