-- Issue 30: an issue batch asks whether another student shares each of its addresses
-- (pipeline/issue/recipients.sql's `shared`). Without an index on the normalised address that
-- read every student, once per batch: a night's cost grew with the years of students. The
-- production CTIMS replica needs the same index (docs/production.md, "The CTIMS side").
CREATE INDEX IF NOT EXISTS students_normalised_email_idx ON ctims.students (lower(btrim(email)));
