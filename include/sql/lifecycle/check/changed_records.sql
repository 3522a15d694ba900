-- The students whose record (name, email, opt-out) changed since `since` (the last nightly
-- check's start by CTIMS's clock, less a margin for replication lag): their badges are
-- checked again (a corrected name or address). Needs ctims.students (updated_at) indexed.
SELECT student_id FROM ctims.students WHERE updated_at >= %(since)s;
