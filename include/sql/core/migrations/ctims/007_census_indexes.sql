-- Issue 30: the source guard counts, every night, the students whose address is blank or
-- malformed and those without a first or last name (lifecycle/check/census.sql). Evaluating
-- that on every student, a regular expression among it, was most of the census at 1,000,000
-- students, on both cores the issue batches share. With these partial indexes the predicates
-- run when a student's row is written, and the night counts the indexes' few entries. Their
-- predicates must stay the census's, character for character (the planner uses an index only
-- when it can see they are the same). The production CTIMS replica needs the same indexes
-- (docs/production.md, "The CTIMS side"); without them the census reads every student, as
-- before.
CREATE INDEX IF NOT EXISTS students_unusable_email_idx ON ctims.students (student_id)
    WHERE coalesce(btrim(email), '') !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$';
CREATE INDEX IF NOT EXISTS students_blank_name_idx ON ctims.students (student_id)
    WHERE coalesce(btrim(first_name), '') = '' OR coalesce(btrim(last_name), '') = '';
