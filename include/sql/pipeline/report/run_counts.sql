-- The run's counts. still_pending comes from the ledger (the badges the run planned, by
-- its batches), not from staging: it stays right after the staging purge, when a cleared
-- issue task has nothing staged to read. Swept badges are not counted: another run may be
-- issuing them right now, and one left open for good shows in stale_open. stale_open: badges open in the ledger for longer
-- than %(stale_open_days)s days, whichever run planned them.
SELECT
    (SELECT count(*) FROM badging.staged_certification
     WHERE run_id = %(run_id)s)                                    AS staged,
    (SELECT count(*) FROM badging.staged_certification
     WHERE run_id = %(run_id)s AND decision = 'planned')           AS planned,
    (SELECT count(*) FROM badging.run_batch b
     JOIN badging.issuance i ON i.issuance_id = b.issuance_id
     WHERE b.run_id = %(run_id)s
       AND NOT b.swept
       AND i.state IN ('pending', 'in_flight'))                    AS still_pending,
    (SELECT count(*) FROM badging.issuance
     WHERE state IN ('pending', 'in_flight')
       AND created_at < now() - make_interval(days => %(stale_open_days)s)) AS stale_open;
