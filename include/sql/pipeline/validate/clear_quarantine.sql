-- Makes validate re-runnable: the run's quarantine is decided afresh.
DELETE FROM badging.quarantine WHERE run_id = %(run_id)s;
