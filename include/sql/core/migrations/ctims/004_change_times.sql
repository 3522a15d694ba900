-- Issue 30: the nightly check reads only what changed (docs/lifecycle.md, "A night costs what
-- the day holds"). Our model of CTIMS stamps a student's record when it changes, as the
-- production CTIMS must (docs/production.md, "The CTIMS side"), and indexes what the check
-- looks up by: the students changed since a time, a student's Real-Time rows.
ALTER TABLE ctims.students ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX IF NOT EXISTS students_updated_at_idx ON ctims.students (updated_at);
CREATE INDEX IF NOT EXISTS realtime_certifications_student_idx
    ON ctims.realtime_certifications (student_id);

CREATE OR REPLACE FUNCTION ctims.stamp_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- A change that sets updated_at itself (a load, a test replaying history) keeps it.
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS students_stamp_updated_at ON ctims.students;
CREATE TRIGGER students_stamp_updated_at
    BEFORE UPDATE ON ctims.students
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION ctims.stamp_updated_at();
