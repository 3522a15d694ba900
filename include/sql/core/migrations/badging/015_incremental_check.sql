-- A night costs what the day holds (issue 30; docs/lifecycle.md): the nightly check reads
-- only the students whose entries or record changed since the last check, and the full
-- check runs weekly and whenever the incremental state is missing or suspect.

-- What CTIMS's Real-Time table held at the last check, one row per entry: the next check
-- compares the table's ids with it to see entries that appeared, changed, vanished
-- (hard-deleted) or came back unchanged, whatever their updated_at says.
CREATE TABLE IF NOT EXISTS badging.check_snapshot (
    certification_id bigint      PRIMARY KEY,
    student_id       bigint,
    assessment_key   text,
    updated_at       timestamptz,
    deleted          boolean     NOT NULL
);

-- How each check ran: full or incremental, the students it read, and CTIMS's own clock when
-- it began (the next incremental check reads student records changed since, less a margin).
ALTER TABLE badging.badge_check ADD COLUMN IF NOT EXISTS full_check boolean NOT NULL DEFAULT true;
ALTER TABLE badging.badge_check ADD COLUMN IF NOT EXISTS students_checked integer;
ALTER TABLE badging.badge_check ADD COLUMN IF NOT EXISTS source_time timestamptz;
