-- Issue 16, "Exactly-once, hardened": bounded waits and failures, and the ledger's own
-- hardening. Statements are appended here by each part of that issue until it is released.

-- Source text is UTF-8 or the row is held back: extract stages a row whose CTIMS bytes are
-- not valid UTF-8 with this flag false (its bad bytes replaced), and the realtime_rows suite
-- quarantines it (check text_valid_utf8). Rows staged before this column existed passed a
-- UTF-8 COPY, so true is right for them.
ALTER TABLE badging.staged_certification
    ADD COLUMN IF NOT EXISTS text_valid_utf8 boolean NOT NULL DEFAULT true;
