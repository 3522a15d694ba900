-- Issue 16, "Exactly-once, hardened": bounded waits and failures, and the ledger's own
-- hardening. Statements are appended here by each part of that issue until it is released.

-- Source text is UTF-8 or the row is held back: extract stages a row whose CTIMS bytes are
-- not valid UTF-8 with this flag false (its bad bytes replaced), and the realtime_rows suite
-- quarantines it (check text_valid_utf8). Rows staged before this column existed passed a
-- UTF-8 COPY, so true is right for them.
ALTER TABLE badging.staged_certification
    ADD COLUMN IF NOT EXISTS text_valid_utf8 boolean NOT NULL DEFAULT true;

-- The ledger's hardening (docs/exactly-once.md).

-- An attempt that may have reached Credly without our knowing (a lost response) ended
-- without settling the row: whoever claims it next looks it up in Credly before any POST.
ALTER TABLE badging.issuance
    ADD COLUMN IF NOT EXISTS lookup_first boolean NOT NULL DEFAULT false;

-- Which open ledger rows each run's issue tasks take, in which batch: the run's own
-- planned badges and every other row still pending or in flight (the sweep), whatever
-- its age. Ids only, no student data, so it outlives the staging purge: a task cleared
-- weeks later still finds its batch.
CREATE TABLE IF NOT EXISTS badging.run_batch (
    run_id      text    NOT NULL,
    issuance_id bigint  NOT NULL REFERENCES badging.issuance,
    batch_no    integer NOT NULL,
    -- True for a row planned by another run, taken by this run's sweep.
    swept       boolean NOT NULL,
    PRIMARY KEY (run_id, issuance_id)
);
CREATE INDEX IF NOT EXISTS run_batch_batch_idx ON badging.run_batch (run_id, batch_no);

-- Batches moved to badging.run_batch.
ALTER TABLE badging.staged_certification DROP COLUMN IF EXISTS batch_no;
