-- A badge's life after issuance (issue 13; docs/lifecycle.md): every run checks every
-- issued badge against the live CTIMS rows; one unjustified for `revocation_grace_days`
-- successive run days is revoked in Credly, and issued again if its justification returns.

-- The streak of run days that found the badge unjustified (NULL while it is justified).
-- Days are the runs' processing days, not the wall clock: re-runs and tests count alike.
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS unjustified_since  date;
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS unjustified_seen   date;
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS unjustified_reason text;

-- One row per revocation of one Credly badge: planned by the check, then claimed, called and
-- finished with the issuing protocol's claim and lease (docs/exactly-once.md). It keeps the
-- revoked badge's id: a badge issued again later gets a new id on the same issuance row.
CREATE TABLE IF NOT EXISTS badging.revocation (
    revocation_id   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issuance_id     bigint      NOT NULL REFERENCES badging.issuance (issuance_id),
    credly_badge_id text        NOT NULL,
    -- The site of the badge's last known entry, for the per-site report (no student data).
    site_code       text,
    -- Why the badge lost its justification (constants.RevokeReason).
    reason          text        NOT NULL,
    revocation_state text       NOT NULL DEFAULT 'planned'
        CHECK (revocation_state IN ('planned', 'held', 'in_flight', 'revoked', 'failed', 'cancelled')),
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    claimed_by      text,
    claimed_at      timestamptz,
    planned_run_id  text        NOT NULL,
    -- The run whose revoke task takes it now (the latest run that checked it).
    run_id          text        NOT NULL,
    revoked_run_id  text,
    revoked_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- At most one open revocation per badge.
CREATE UNIQUE INDEX IF NOT EXISTS revocation_open_idx
    ON badging.revocation (issuance_id) WHERE revocation_state IN ('planned', 'held', 'in_flight');
CREATE INDEX IF NOT EXISTS revocation_run_idx ON badging.revocation (run_id);

-- The run's revocation counts for the report: {unjustified, planned, revoked, held, failed,
-- would_revoke, by_site: {site: {reason: {state: n}}}}.
ALTER TABLE badging.run_summary
    ADD COLUMN IF NOT EXISTS revocations jsonb NOT NULL DEFAULT '{}';

-- What each run's check saw: the live CTIMS total guards revocations against a collapsed
-- source (a truncated or half-replicated table looks like mass deletion).
CREATE TABLE IF NOT EXISTS badging.badge_check (
    run_id        text        PRIMARY KEY,
    logical_date  date        NOT NULL,
    live_rows     integer     NOT NULL,
    live_badges   integer     NOT NULL,
    unjustified   integer     NOT NULL,
    -- Why this run may not revoke (NULL: it may).
    blocked       text,
    checked_at    timestamptz NOT NULL DEFAULT now()
);
