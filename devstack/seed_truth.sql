-- Ground truth of devstack seeds, kept beside the data in the ctims database (never in
-- production): the outcome each Real-Time row was generated to get on first processing
-- against an empty ledger, with the default program launch date
-- (badging.constants.PROGRAM_LAUNCH); a corrected row as the seed wrote it, corrected.
CREATE SCHEMA IF NOT EXISTS devstack;

CREATE TABLE IF NOT EXISTS devstack.seed_truth (
    -- One row per ctims.realtime_certifications row the seed wrote.
    certification_id bigint PRIMARY KEY,
    -- 'eligible' | 'quarantined' | 'duplicate' | 'ineligible:<reason>'
    expected         text   NOT NULL,
    -- NULL for a clean row; otherwise the defect the row was generated with.
    dirty_kind       text,
    -- For expected = 'duplicate': the earlier, eligible entry of the same badge.
    duplicate_of     bigint,
    CHECK ((expected = 'duplicate') = (duplicate_of IS NOT NULL))
);

-- One row per correction a seed made with --correction-rate (devstack/seed/corrections.py):
-- a badge-earning row changed in CTIMS on a later day, and what the ledger must do with the
-- badge it concerns once it sees the change (a badge issued from the row before it).
CREATE TABLE IF NOT EXISTS devstack.seed_correction (
    -- The corrected row (no longer in ctims.realtime_certifications after a hard_delete).
    certification_id bigint PRIMARY KEY,
    kind             text   NOT NULL CHECK (kind IN (
        'soft_delete', 'hard_delete', 'reassigned_student', 'reassigned_assessment',
        'email_fixed', 'name_fixed', 'reentered')),
    -- The Chicago day of the change: the row's updated_at then (its deleted_at too for
    -- soft_delete and reentered).
    corrected_on     date   NOT NULL,
    -- The badge concerned: the row's student and assessment (upper-cased, trimmed) before.
    student_id       bigint NOT NULL,
    assessment_code  text   NOT NULL,
    -- 'revoke' | 'replace_name' | 'move_email' | 'nothing' ('nothing' also when another
    -- live badge-earning row of the same student and assessment keeps the badge justified).
    expected         text   NOT NULL
        CHECK (expected IN ('revoke', 'replace_name', 'move_email', 'nothing')),
    -- For reentered: the row entered in its place that day.
    reentered_as     bigint,
    CHECK ((kind = 'reentered') = (reentered_as IS NOT NULL))
);
