-- After issuance (issue 14; docs/credly-sync.md): the ledger keeps each issued badge's state
-- in Credly (pending, accepted, rejected, revoked, expired, deleted), read in bulk by the
-- daily `sync_credly` task, and the acceptance figures other tools read.

-- The Credly state of the badge `credly_badge_id` names, as the last sync saw it (NULL: not
-- synced yet); `credly_state_at` when a sync last saw it so; `credly_state_changed_at` when
-- Credly says the state last changed (its state_updated_at: the acceptance time).
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS credly_state text
    CHECK (credly_state IN ('pending', 'accepted', 'rejected', 'revoked', 'expired', 'deleted'));
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS credly_state_at         timestamptz;
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS credly_state_changed_at timestamptz;
-- Where the badge was earned, for the per-site reports: the ledger outlives the staged rows
-- (purged after 14 days), and CTIMS is another database.
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS site_code    text;
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS program_code text;
UPDATE badging.issuance i
SET site_code = s.site_code, program_code = s.program_code
FROM (SELECT DISTINCT ON (certification_id) certification_id, site_code, program_code
      FROM badging.staged_certification
      ORDER BY certification_id, staged_at DESC) s
WHERE s.certification_id = i.certification_id AND i.site_code IS NULL;

-- A Credly state belongs to one Credly badge: whatever path gives the row another badge id
-- (a re-issue after the pipeline's revoke, a replace, a move) forgets the old badge's state.
CREATE OR REPLACE FUNCTION badging.forget_credly_state() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.credly_state := NULL;
    NEW.credly_state_at := NULL;
    NEW.credly_state_changed_at := NULL;
    RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS issuance_forget_credly_state ON badging.issuance;
CREATE TRIGGER issuance_forget_credly_state
    BEFORE UPDATE OF credly_badge_id ON badging.issuance
    FOR EACH ROW WHEN (OLD.credly_badge_id IS DISTINCT FROM NEW.credly_badge_id)
    EXECUTE FUNCTION badging.forget_credly_state();

-- The badges a sync reads: issued, and not final in Credly.
CREATE INDEX IF NOT EXISTS issuance_credly_live_idx ON badging.issuance (issuance_id)
    WHERE state = 'issued' AND (credly_state IS NULL OR credly_state IN ('pending', 'accepted'));

-- One row per sync: its counts, its requests to Credly, and when it began (the next sync's
-- list of badges that became final stops at the previous begin, less a margin).
CREATE TABLE IF NOT EXISTS badging.credly_sync (
    run_id       text        PRIMARY KEY,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    live_before  integer     NOT NULL DEFAULT 0,
    changed      integer     NOT NULL DEFAULT 0,
    requests     integer     NOT NULL DEFAULT 0,
    counts       jsonb       NOT NULL DEFAULT '{}'
);

-- Badges revoked or deleted in Credly by someone else: the ledger row is `revoked` with
-- no revocation of the pipeline's for that badge id. A person decides (never re-issued).
CREATE OR REPLACE VIEW badging.credly_external_change AS
SELECT i.issuance_id, i.certification_id, i.site_code, i.program_code, i.assessment_code,
       i.credly_badge_id, i.credly_state, i.credly_state_at, i.credly_state_changed_at
FROM badging.issuance i
WHERE i.state = 'revoked'
  AND i.credly_state IN ('revoked', 'deleted')
  AND NOT EXISTS (SELECT 1 FROM badging.revocation r
                  WHERE r.issuance_id = i.issuance_id
                    AND r.credly_badge_id = i.credly_badge_id
                    AND r.revocation_state IN ('revoked', 'moved', 'in_flight'));

-- Acceptance per site, program and assessment over the badges a sync has seen (other tools
-- read this; the run report writes the same figures). Days to accept: from the pipeline's
-- issue to Credly's state change.
CREATE OR REPLACE VIEW badging.acceptance AS
SELECT coalesce(i.site_code, '') AS site_code,
       coalesce(i.program_code, '') AS program_code,
       i.assessment_code,
       count(*) AS badges,
       count(*) FILTER (WHERE i.credly_state = 'accepted') AS accepted,
       count(*) FILTER (WHERE i.credly_state = 'pending') AS pending,
       count(*) FILTER (WHERE i.credly_state = 'rejected') AS rejected,
       count(*) FILTER (WHERE i.credly_state IN ('revoked', 'deleted', 'expired')) AS gone,
       round(count(*) FILTER (WHERE i.credly_state = 'accepted')::numeric / count(*), 4)
           AS acceptance_rate,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM i.credly_state_changed_at - i.issued_at) / 86400.0)
           FILTER (WHERE i.credly_state = 'accepted') AS median_days_to_accept
FROM badging.issuance i
WHERE i.credly_state IS NOT NULL AND i.issued_at IS NOT NULL
GROUP BY 1, 2, 3;

-- Issued badges still pending in Credly, with how long since the pipeline issued them: the
-- report lists per site those past constants.UNACCEPTED_AFTER_DAYS (certification ids only,
-- so instructors can nudge the student or fix the address).
CREATE OR REPLACE VIEW badging.unaccepted_badge AS
SELECT i.issuance_id, i.certification_id, i.site_code, i.program_code, i.assessment_code,
       i.issued_at, floor(extract(epoch FROM now() - i.issued_at) / 86400)::int AS days_unaccepted
FROM badging.issuance i
WHERE i.state = 'issued' AND i.credly_state = 'pending' AND i.issued_at IS NOT NULL;

-- The run's acceptance figures as its report saw them (report/acceptance_totals.sql).
ALTER TABLE badging.run_summary ADD COLUMN IF NOT EXISTS acceptance jsonb NOT NULL DEFAULT '{}';
