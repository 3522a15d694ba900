-- The gate decides the run's holds afresh (a re-run of its check, after a release): the
-- rows it held are undecided again; hold.sql holds what is still held.
UPDATE badging.staged_certification
SET decision = NULL, reason = NULL
WHERE run_id = %(run_id)s AND decision = 'held';
