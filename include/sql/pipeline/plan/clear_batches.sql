-- Makes plan re-runnable: the run's batches are cut again from scratch.
DELETE FROM badging.run_batch WHERE run_id = %(run_id)s;
