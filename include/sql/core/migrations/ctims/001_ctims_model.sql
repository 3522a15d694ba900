-- Our model of the CTIMS tables the pipeline reads (docs/eligibility.md, "Source model").
-- Production CTIMS owns its own schema; this file exists for devstack and tests only,
-- and include/sql/extract/ is the one place the pipeline depends on these names.

CREATE SCHEMA IF NOT EXISTS ctims;

CREATE TABLE IF NOT EXISTS ctims.sites (
    site_code   char(9) PRIMARY KEY CHECK (site_code ~ '^[0-9]{9}$'),
    name        text    NOT NULL,
    accredited  boolean NOT NULL
);

CREATE TABLE IF NOT EXISTS ctims.programs (
    program_code text    PRIMARY KEY,
    name         text    NOT NULL,
    cip_code     text    NOT NULL,
    site_code    char(9) NOT NULL REFERENCES ctims.sites,
    approved     boolean NOT NULL
);

CREATE TABLE IF NOT EXISTS ctims.approved_assessments (
    assessment_code     text    PRIMARY KEY,
    name                text    NOT NULL,
    vendor              text    NOT NULL,
    credential_type     text    NOT NULL
        CHECK (credential_type IN ('license', 'certification', 'micro-credential')),
    vendor_issues_badge boolean NOT NULL,
    approved_from       date    NOT NULL,
    approved_to         date
);

-- Blueprint alignment: which assessments a program's objectives cover.
CREATE TABLE IF NOT EXISTS ctims.program_assessments (
    program_code    text NOT NULL REFERENCES ctims.programs,
    assessment_code text NOT NULL REFERENCES ctims.approved_assessments,
    PRIMARY KEY (program_code, assessment_code)
);

CREATE TABLE IF NOT EXISTS ctims.students (
    student_id    bigint  PRIMARY KEY,
    first_name    text,
    last_name     text,
    email         text,
    badge_opt_out boolean NOT NULL DEFAULT false
);

CREATE TABLE IF NOT EXISTS ctims.enrollments (
    student_id   bigint NOT NULL REFERENCES ctims.students,
    program_code text   NOT NULL REFERENCES ctims.programs,
    start_date   date   NOT NULL,
    end_date     date,
    PRIMARY KEY (student_id, program_code, start_date)
);

-- Real-Time entries are free text as typed by instructors: no foreign keys, so that
-- an unknown assessment code or site code reaches validation instead of being refused.
CREATE TABLE IF NOT EXISTS ctims.realtime_certifications (
    certification_id bigint      PRIMARY KEY,
    student_id       bigint,
    assessment_code  text,
    site_code        text,
    program_code     text,
    test_date        date,
    entered_by       text,
    entered_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    deleted_at       timestamptz
);

-- The extract reads by change time; without this index it scans the whole history daily.
CREATE INDEX IF NOT EXISTS realtime_certifications_updated_at_idx
    ON ctims.realtime_certifications (updated_at);
CREATE INDEX IF NOT EXISTS enrollments_student_idx ON ctims.enrollments (student_id);
