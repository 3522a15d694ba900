-- Outcomes for the agency (issue 32; docs/outcomes.md): what the badges became, by school
-- year, month, site, program, career cluster and assessment, kept current by the `report`
-- task so the console answers from a summary, never from the ledger; who must act; the
-- templates' health; which Airflow users see which sites. (011 is issue 27's, 012 and 013
-- are other issues'.)

-- CTIMS's names and facts, copied by the report task (CTIMS is another database; the console
-- reads the badging database only). Names are not personal data.
CREATE TABLE IF NOT EXISTS badging.ctims_site (
    site_code text        PRIMARY KEY,
    name      text        NOT NULL,
    seen_at   timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS badging.ctims_program (
    program_code text        PRIMARY KEY,
    name         text        NOT NULL,
    -- The career cluster is the CIP family: its first two digits (badging/outcomes/calendar.py).
    cip_code     text,
    site_code    text,
    seen_at      timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS badging.ctims_assessment (
    assessment_code     text        PRIMARY KEY,
    name                text        NOT NULL,
    vendor              text,
    vendor_issues_badge boolean     NOT NULL,
    -- When a copy first saw the vendor badging an assessment it did not badge before (the
    -- template health's vendor_badges finding); NULL: never seen changing.
    vendor_badge_since  timestamptz,
    approved_from       date,
    approved_to         date,
    seen_at             timestamptz NOT NULL
);

-- Who entered each certification in CTIMS (an instructor's or the testing center's login),
-- for the per-instructor lists; copied for the run's staged entries and the ledger's badges.
CREATE TABLE IF NOT EXISTS badging.entry_author (
    certification_id bigint      PRIMARY KEY,
    entered_by       text,
    read_at          timestamptz NOT NULL
);

-- Badges whose outcome may have changed since the summary last counted them. Filled by the
-- triggers below, whatever statement changed the row (issue, adoption, sync, revoke, a
-- site filled in), and drained by the report task: an updated_at watermark would miss a
-- statement that does not set it and a transaction that commits after the refresh read.
CREATE TABLE IF NOT EXISTS badging.outcome_dirty (
    issuance_id bigint PRIMARY KEY
);

-- One row per badge the ledger holds (issued at some time, issued or revoked now), as the
-- summary counted it: the refresh recomputes each touched key from these rows, the CSV and
-- the per-instructor lists read them. `credly_state` is the badge's outcome: Credly's state,
-- pending until a sync saw it, revoked for every revoked row (by the pipeline, in Credly, or
-- deleted there).
CREATE TABLE IF NOT EXISTS badging.outcome_badge (
    issuance_id      bigint      PRIMARY KEY,
    certification_id bigint      NOT NULL,
    -- The year the school year starts (July–June, Chicago), and the month of issue.
    school_year      smallint    NOT NULL,
    issued_month     date        NOT NULL,
    issued_at        timestamptz NOT NULL,
    site_code        text        NOT NULL,
    program_code     text        NOT NULL,
    assessment_code  text        NOT NULL,
    credly_state     text        NOT NULL
        CHECK (credly_state IN ('pending', 'accepted', 'rejected', 'expired', 'revoked')),
    accepted_at      timestamptz,
    -- Whole days from issue to acceptance (accepted badges only).
    accept_days      integer,
    -- Who entered the certification in CTIMS (badging.entry_author's, kept here so the CSV
    -- and the per-instructor lists read one table), and whether it was read yet.
    entered_by       text,
    author_read      boolean     NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS outcome_badge_key_idx ON badging.outcome_badge
    (school_year, site_code, issued_month, program_code, assessment_code);
-- Who must act: badges still pending, per site, oldest first.
CREATE INDEX IF NOT EXISTS outcome_badge_pending_idx ON badging.outcome_badge
    (site_code, issued_at) WHERE credly_state = 'pending';
-- Badges whose author the next report reads from CTIMS.
CREATE INDEX IF NOT EXISTS outcome_badge_author_idx ON badging.outcome_badge (certification_id)
    WHERE NOT author_read;

-- The summary the console reads: per school year, month, site, program, assessment and
-- outcome, the badges and a histogram of days to accept (accepted only), in bins wide enough
-- to keep the median within its bin: single days for the first week, when most earners
-- accept, then wider (calendar.ACCEPT_BINS).
CREATE TABLE IF NOT EXISTS badging.outcome_summary (
    school_year     smallint NOT NULL,
    issued_month    date     NOT NULL,
    site_code       text     NOT NULL,
    program_code    text     NOT NULL,
    assessment_code text     NOT NULL,
    credly_state    text     NOT NULL,
    badges          integer  NOT NULL,
    d0 integer NOT NULL, d1 integer NOT NULL, d2 integer NOT NULL, d3 integer NOT NULL,
    d4 integer NOT NULL, d5 integer NOT NULL, d6 integer NOT NULL, d7 integer NOT NULL,
    d8_14 integer NOT NULL, d15_30 integer NOT NULL, d31_60 integer NOT NULL,
    d61_90 integer NOT NULL, d91_plus integer NOT NULL,
    PRIMARY KEY (school_year, site_code, issued_month, program_code, assessment_code,
                 credly_state)
);

-- When the summary was last brought up to date (one row).
CREATE TABLE IF NOT EXISTS badging.outcome_refresh (
    singleton    boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    refreshed_at timestamptz NOT NULL,
    run_id       text        NOT NULL
);

-- Entries held by an operator's decision (audit event `held`, issue 28), still unresolved:
-- added by the report of the run that held them, removed once a later decision closes them.
CREATE TABLE IF NOT EXISTS badging.outcome_held (
    certification_id bigint      PRIMARY KEY,
    site_code        text,
    run_id           text        NOT NULL,
    reason           text,
    held_at          timestamptz NOT NULL
);

-- The templates' health (docs/outcomes.md): one row per problem and assessment while it
-- lasts; `problem` a outcomes.health.TemplateProblem. New rows are mailed to the operators.
CREATE TABLE IF NOT EXISTS badging.template_finding (
    problem            text        NOT NULL,
    assessment_code    text        NOT NULL,
    credly_template_id text,
    detail             text,
    first_run_id       text        NOT NULL,
    first_seen_at      timestamptz NOT NULL,
    last_seen_at       timestamptz NOT NULL,
    PRIMARY KEY (problem, assessment_code)
);

-- What each report learnt of Credly: whether the template list could be read, the run's
-- authorization failures, and the token's age where the connection records its creation.
-- Class names and dates only, never the token.
CREATE TABLE IF NOT EXISTS badging.credly_health (
    run_id              text        PRIMARY KEY,
    checked_at          timestamptz NOT NULL,
    templates_read      boolean     NOT NULL,
    templates_error     text,
    auth_failed_at      timestamptz,
    auth_failure        text,
    token_created_on    date,
    token_rotation_days integer
);
CREATE INDEX IF NOT EXISTS credly_health_auth_idx ON badging.credly_health (auth_failed_at)
    WHERE auth_failed_at IS NOT NULL;

-- Which technology centers an Airflow user who is not an operator may see (docs/outcomes.md,
-- "Who sees what"); `*` for every site. Kept by operators on the console's Access page.
CREATE TABLE IF NOT EXISTS badging.console_site_user (
    username   text        NOT NULL,
    site_code  text        NOT NULL,
    granted_by text        NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (username, site_code)
);

CREATE OR REPLACE FUNCTION badging.outcome_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO badging.outcome_dirty (issuance_id) VALUES (NEW.issuance_id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS issuance_outcome_inserted ON badging.issuance;
CREATE TRIGGER issuance_outcome_inserted
    AFTER INSERT ON badging.issuance
    FOR EACH ROW WHEN (NEW.issued_at IS NOT NULL)
    EXECUTE FUNCTION badging.outcome_touch();
-- Only the columns the summary depends on: a sync that only saw a badge again
-- (credly_state_at) or a claim's attempt counter enqueues nothing.
DROP TRIGGER IF EXISTS issuance_outcome_updated ON badging.issuance;
CREATE TRIGGER issuance_outcome_updated
    AFTER UPDATE ON badging.issuance
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state
                    OR OLD.issued_at IS DISTINCT FROM NEW.issued_at
                    OR OLD.credly_state IS DISTINCT FROM NEW.credly_state
                    OR OLD.credly_state_changed_at IS DISTINCT FROM NEW.credly_state_changed_at
                    OR OLD.site_code IS DISTINCT FROM NEW.site_code
                    OR OLD.program_code IS DISTINCT FROM NEW.program_code
                    OR OLD.assessment_code IS DISTINCT FROM NEW.assessment_code
                    OR OLD.certification_id IS DISTINCT FROM NEW.certification_id)
    EXECUTE FUNCTION badging.outcome_touch();

-- The ledger as it stands is counted by the next report.
INSERT INTO badging.outcome_dirty (issuance_id)
SELECT issuance_id FROM badging.issuance WHERE issued_at IS NOT NULL
ON CONFLICT DO NOTHING;
