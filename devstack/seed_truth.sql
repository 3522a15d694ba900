-- Ground truth of devstack seeds, kept beside the data in the ctims database (never in
-- production): the outcome each Real-Time row was generated to get on first processing
-- against an empty ledger, with the default program launch date
-- (badging.constants.PROGRAM_LAUNCH).
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
