-- What a badge says (issue 31; docs/ledger.md "Certification periods" and "Expiry"): how long
-- a badge of each assessment is valid, the Credly templates' own default expiry, and one
-- ledger row per certification period, so a student who re-tests after the badge expired
-- earns a new one.

-- The agency's validity per assessment, declared like badge_templates: a row says either
-- `valid_months` or `never`; no row means the Credly template's own default expiry
-- (badging.credly_template), and unknown while that has not been read.
CREATE TABLE IF NOT EXISTS badging.assessment_validity (
    assessment_code text        PRIMARY KEY,
    valid_months    integer     CHECK (valid_months > 0),
    never           boolean     NOT NULL DEFAULT false,
    CHECK (never <> (valid_months IS NOT NULL))
);

-- What Credly's template list said of each template's default expiry when plan last read it
-- (NULL expires_in_days: the template sets none, its badges never expire by default).
CREATE TABLE IF NOT EXISTS badging.credly_template (
    credly_template_id text        PRIMARY KEY,
    expires_in_days    integer     CHECK (expires_in_days > 0),
    read_at            timestamptz NOT NULL
);

-- Certification periods. A badge is a student, an assessment and a period: 1 for the first
-- badge, and one more for each renewal a later passing entry earns once the earlier badge
-- has expired. Every existing row is period 1. Each period is its own row, so its claim,
-- findings, revocations, replaces and moves stay keyed by issuance_id as before.
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS period integer NOT NULL DEFAULT 1
    CHECK (period >= 1);
-- The badge's expiry as Credly has it (what was sent, or Credly's answer; the sync reads it
-- again), NULL: it never expires, or not known yet (a badge issued before this migration,
-- until the next sync reads it).
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS expires_at timestamptz;
-- The period this one renews (the trail links the two).
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS previous_issuance_id bigint
    REFERENCES badging.issuance (issuance_id);
ALTER TABLE badging.issuance DROP CONSTRAINT IF EXISTS issuance_student_id_assessment_code_key;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'issuance_period_key') THEN
        ALTER TABLE badging.issuance
            ADD CONSTRAINT issuance_period_key UNIQUE (student_id, assessment_code, period);
    END IF;
END
$$;
-- Which period a Real-Time entry of a student and assessment falls in: the latest period whose
-- entry (entry_test_date: the test date of the entry that earned it, set by plan when it
-- inserts the row and again at issue) was tested on or before it; period 1 takes everything
-- before period 2, so a row issued before this migration needs none. NULL when the
-- ledger holds no badge of the student and assessment. The one definition every statement
-- that joins entries to badges uses (plan, the lifecycle check).
CREATE OR REPLACE FUNCTION badging.entry_period(p_student_id bigint, p_assessment_code text,
                                                p_test_date date)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT issuance_id
    FROM badging.issuance
    WHERE student_id = p_student_id
      AND assessment_code = p_assessment_code
      AND (period = 1 OR entry_test_date <= p_test_date)
    ORDER BY period DESC
    LIMIT 1
$$;

-- Whether an entry tested on `p_test_date` renews the badge of period `p_issuance_id`
-- (docs/ledger.md, "Certification periods"): that badge is issued, the latest of its student
-- and assessment, has a known expiry, and the entry was tested after the period's own entry
-- and at most `p_window_days` before the badge's expiry day (in Chicago). Whether the badge
-- has expired by now decides when the renewal is issued, not whether it is earned. NULL (no
-- such period, or its entry's test date not known yet) is no.
CREATE OR REPLACE FUNCTION badging.renews(p_issuance_id bigint, p_test_date date,
                                          p_window_days integer)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT i.state = 'issued'
       AND i.expires_at IS NOT NULL
       AND p_test_date > i.entry_test_date
       AND p_test_date >= (i.expires_at AT TIME ZONE 'America/Chicago')::date - p_window_days
       AND NOT EXISTS (SELECT 1 FROM badging.issuance later
                       WHERE later.student_id = i.student_id
                         AND later.assessment_code = i.assessment_code
                         AND later.period > i.period)
    FROM badging.issuance i
    WHERE i.issuance_id = p_issuance_id
$$;

-- The morning lists' monthly section reads the issued badges expiring soon.
CREATE INDEX IF NOT EXISTS issuance_expires_idx ON badging.issuance (expires_at)
    WHERE state = 'issued' AND expires_at IS NOT NULL;

-- Acceptance counts expired badges apart: `gone` is revoked or deleted, `expired` is new, and
-- the acceptance rate leaves expired badges out (an expired badge no longer says whether
-- its earner accepted it).
CREATE OR REPLACE VIEW badging.acceptance AS
SELECT coalesce(i.site_code, '') AS site_code,
       coalesce(i.program_code, '') AS program_code,
       i.assessment_code,
       count(*) AS badges,
       count(*) FILTER (WHERE i.credly_state = 'accepted') AS accepted,
       count(*) FILTER (WHERE i.credly_state = 'pending') AS pending,
       count(*) FILTER (WHERE i.credly_state = 'rejected') AS rejected,
       count(*) FILTER (WHERE i.credly_state IN ('revoked', 'deleted')) AS gone,
       round(count(*) FILTER (WHERE i.credly_state = 'accepted')::numeric
             / nullif(count(*) FILTER (WHERE i.credly_state <> 'expired'), 0), 4)
           AS acceptance_rate,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM i.credly_state_changed_at - i.issued_at) / 86400.0)
           FILTER (WHERE i.credly_state = 'accepted') AS median_days_to_accept,
       count(*) FILTER (WHERE i.credly_state = 'expired') AS expired
FROM badging.issuance i
WHERE i.credly_state IS NOT NULL AND i.issued_at IS NOT NULL
GROUP BY 1, 2, 3;

-- The run's badges by expiry (with an expiry, without, renewals): the summary's figures.
ALTER TABLE badging.run_summary ADD COLUMN IF NOT EXISTS expiry jsonb NOT NULL DEFAULT '{}';
