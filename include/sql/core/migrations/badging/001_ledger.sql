-- The badging ledger (docs/ledger.md): what was decided, planned and issued.

CREATE SCHEMA IF NOT EXISTS badging;

-- Which Credly template badges which assessment.
CREATE TABLE IF NOT EXISTS badging.badge_templates (
    assessment_code    text    PRIMARY KEY,
    credly_template_id text    NOT NULL,
    active             boolean NOT NULL DEFAULT true
);

-- One row per badge. (student_id, assessment_code) is the badge key: a student earns an
-- assessment's badge once, however many times the certification is entered or retaken.
CREATE TABLE IF NOT EXISTS badging.issuance (
    issuance_id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student_id         bigint      NOT NULL,
    assessment_code    text        NOT NULL,
    certification_id   bigint      NOT NULL,
    credly_template_id text        NOT NULL,
    earner_id          text        NOT NULL,
    state              text        NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'in_flight', 'issued', 'failed', 'revoked')),
    credly_badge_id    text        UNIQUE,
    attempts           integer     NOT NULL DEFAULT 0,
    last_error         text,
    -- Who holds an in_flight row: "run_id|task_id|map_index|try_number" (RunInfo.holder),
    -- one try of one mapped task; it renews claimed_at while it lives, and anyone else
    -- waits for the lease to expire (docs/exactly-once.md).
    claimed_by         text,
    claimed_at         timestamptz,
    planned_run_id     text        NOT NULL,
    issued_run_id      text,
    issued_at          timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (student_id, assessment_code),
    CHECK ((state = 'issued') <= (credly_badge_id IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS issuance_open_idx
    ON badging.issuance (state) WHERE state IN ('pending', 'in_flight');

-- Append-only: one row per decision or attempt.
CREATE TABLE IF NOT EXISTS badging.audit_log (
    audit_id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    logged_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    run_id           text        NOT NULL,
    logical_date     date,
    task_id          text        NOT NULL,
    map_index        integer     NOT NULL DEFAULT -1,
    try_number       integer,
    certification_id bigint,
    issuance_id      bigint,
    event            text        NOT NULL,
    reason           text,
    detail           jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_log_run_idx
    ON badging.audit_log (run_id, certification_id, event);
CREATE INDEX IF NOT EXISTS audit_log_certification_idx ON badging.audit_log (certification_id);

CREATE OR REPLACE FUNCTION badging.refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'badging.audit_log is append-only';
END;
$$;
DROP TRIGGER IF EXISTS audit_log_append_only ON badging.audit_log;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON badging.audit_log
    FOR EACH ROW EXECUTE FUNCTION badging.refuse_audit_change();

-- The Real-Time rows a run works on. Run-scoped so that any worker can run any task and
-- two runs never see each other's rows; it holds recipient details, so it is purged
-- after a retention period (see report/purge_staging.sql).
CREATE TABLE IF NOT EXISTS badging.staged_certification (
    run_id              text        NOT NULL,
    certification_id    bigint      NOT NULL,
    student_id          bigint,
    assessment_code     text,
    site_code           text,
    program_code        text,
    test_date           date,
    entered_at          timestamptz,
    updated_at          timestamptz,
    deleted_at          timestamptz,
    first_name          text,
    last_name           text,
    email               text,
    -- Facts from CTIMS the eligibility rules need (computed by the extract query, since
    -- the two databases cannot be joined).
    assessment_listed   boolean,
    approved_from       date,
    approved_to         date,
    vendor_issues_badge boolean,
    has_aligned_program boolean,
    badge_opt_out       boolean,
    -- The decision validate, eligibility or plan took for the row (an audit event name)
    -- and its reason; the audit log is written from these.
    decision            text,
    reason              text,
    issuance_id         bigint,
    batch_no            integer,
    staged_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, certification_id)
);
CREATE INDEX IF NOT EXISTS staged_certification_batch_idx
    ON badging.staged_certification (run_id, batch_no) WHERE batch_no IS NOT NULL;

CREATE TABLE IF NOT EXISTS badging.quarantine (
    run_id           text        NOT NULL,
    certification_id bigint      NOT NULL,
    site_code        text,
    expectations     text[]      NOT NULL,
    quarantined_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, certification_id)
);

CREATE TABLE IF NOT EXISTS badging.run_summary (
    run_id               text        PRIMARY KEY,
    logical_date         date        NOT NULL,
    window_start         timestamptz NOT NULL,
    window_end           timestamptz NOT NULL,
    dry_run              boolean     NOT NULL,
    staged               integer     NOT NULL,
    quarantined          integer     NOT NULL,
    ineligible           integer     NOT NULL,
    planned              integer     NOT NULL,
    issued               integer     NOT NULL,
    already_issued       integer     NOT NULL,
    failed               integer     NOT NULL,
    still_pending        integer     NOT NULL,
    would_issue          integer     NOT NULL,
    ineligible_by_reason jsonb       NOT NULL DEFAULT '{}',
    dq_success           boolean,
    dq_failed_share      double precision,
    report_location      text,
    data_docs_location   text,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
