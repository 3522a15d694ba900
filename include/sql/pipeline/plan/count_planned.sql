-- The badges the run's issue tasks take: planned by the run, and swept in.
SELECT count(*) FROM badging.run_batch WHERE run_id = %(run_id)s;
