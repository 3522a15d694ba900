-- No glitch takes a badge (issue 27; docs/lifecycle.md, docs/exactly-once.md).

-- One lease for every claim. An issue attempt on a ledger row and a revocation or correction
-- attempt take, renew and end their claim here, through the three functions below: one
-- implementation of the takeover rule, the fence and the heartbeat. A row is claimed while
-- it has a lease row; `attempt` is the attempt that holds it (the subject's own counter).
CREATE TABLE IF NOT EXISTS badging.lease (
    subject     text        NOT NULL CHECK (subject IN ('issuance', 'revocation')),
    subject_id  bigint      NOT NULL,
    -- "run_id|task_id|map_index|try_number" (RunInfo.holder): one try of one task.
    holder      text        NOT NULL,
    attempt     integer     NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, subject_id)
);
CREATE INDEX IF NOT EXISTS lease_holder_idx ON badging.lease (holder);

-- The claims already held move over, then the old columns go.
INSERT INTO badging.lease (subject, subject_id, holder, attempt, claimed_at)
SELECT 'issuance', issuance_id, claimed_by, attempts, coalesce(claimed_at, now())
FROM badging.issuance
WHERE state = 'in_flight' AND claimed_by IS NOT NULL
ON CONFLICT DO NOTHING;
INSERT INTO badging.lease (subject, subject_id, holder, attempt, claimed_at)
SELECT 'revocation', revocation_id, claimed_by, attempts, coalesce(claimed_at, now())
FROM badging.revocation
WHERE revocation_state = 'in_flight' AND claimed_by IS NOT NULL
ON CONFLICT DO NOTHING;
ALTER TABLE badging.issuance DROP COLUMN IF EXISTS claimed_by;
ALTER TABLE badging.issuance DROP COLUMN IF EXISTS claimed_at;
ALTER TABLE badging.revocation DROP COLUMN IF EXISTS claimed_by;
ALTER TABLE badging.revocation DROP COLUMN IF EXISTS claimed_at;

-- Takes the claim of one subject for `p_holder` as attempt `p_attempt`: always when the
-- subject is not in flight (`p_free`), else only when the claim is already this holder's or
-- its holder stopped renewing it for `p_lease_seconds` (a dead worker). True when taken.
-- Called by the subject's claim statement, which has locked the subject's row FOR UPDATE,
-- so two claimers queue and the second finds the first one's lease.
CREATE OR REPLACE FUNCTION badging.take_lease(p_subject text, p_id bigint, p_holder text,
                                              p_attempt integer, p_free boolean,
                                              p_lease_seconds integer)
RETURNS boolean LANGUAGE sql VOLATILE AS $$
    WITH taken AS (
        INSERT INTO badging.lease AS l (subject, subject_id, holder, attempt, claimed_at)
        VALUES (p_subject, p_id, p_holder, p_attempt, now())
        ON CONFLICT (subject, subject_id) DO UPDATE
            SET holder = EXCLUDED.holder, attempt = EXCLUDED.attempt, claimed_at = now()
            WHERE p_free
               OR l.holder = EXCLUDED.holder
               OR l.claimed_at < now() - make_interval(secs => p_lease_seconds)
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM taken)
$$;

-- The fence before a Credly write: renews the claim if this holder's attempt still holds it.
-- False means it was taken over: do not call Credly.
CREATE OR REPLACE FUNCTION badging.renew_lease(p_subject text, p_id bigint, p_holder text,
                                               p_attempt integer)
RETURNS boolean LANGUAGE sql VOLATILE AS $$
    WITH renewed AS (
        UPDATE badging.lease SET claimed_at = now()
        WHERE subject = p_subject AND subject_id = p_id AND holder = p_holder
          AND attempt = p_attempt
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM renewed)
$$;

-- Ends this holder's attempt: true (and the lease gone) only if it still held the claim.
-- Each finish statement updates its subject only where this returns true.
CREATE OR REPLACE FUNCTION badging.end_lease(p_subject text, p_id bigint, p_holder text,
                                             p_attempt integer)
RETURNS boolean LANGUAGE sql VOLATILE AS $$
    WITH ended AS (
        DELETE FROM badging.lease
        WHERE subject = p_subject AND subject_id = p_id AND holder = p_holder
          AND attempt = p_attempt
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM ended)
$$;

-- The test date of the entry a badge stands for, as it was when the badge was issued: a
-- badge earned on the rules in force on its test date stays earned, so a later refusal is
-- the entry's doing only when the entry itself changed (docs/lifecycle.md, "What may
-- revoke"). NULL until the issue (or the first check after it) records it.
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS entry_test_date date;

-- What the check finds about a badge, and since when: one row per badge and kind while it
-- lasts, gone when it ends (docs/lifecycle.md).
--   unjustified        the badge's own entries no longer earn it (detail: the reason)
--   needs_review       unjustified only through a reference table: a person decides
--   recipient_changed  a new valid name or email in CTIMS (detail: the target digests)
--   recipient_unknown  a blank or malformed name or email in CTIMS (detail: which)
-- Nights are nightly runs (scheduled, or manual runs of the latest day) in a row; the
-- first and last times are the clock's when those runs looked.
CREATE TABLE IF NOT EXISTS badging.badge_finding (
    issuance_id   bigint      NOT NULL REFERENCES badging.issuance (issuance_id),
    kind          text        NOT NULL
        CHECK (kind IN ('unjustified', 'needs_review', 'recipient_changed', 'recipient_unknown')),
    detail        text        NOT NULL,
    site_code     text,
    first_day     date        NOT NULL,
    last_day      date        NOT NULL,
    nights        integer     NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (issuance_id, kind)
);
-- The streaks under way move over; their clock starts now (the wall-clock grace is new).
INSERT INTO badging.badge_finding (issuance_id, kind, detail, first_day, last_day, nights,
                                   first_seen_at, last_seen_at)
SELECT issuance_id, 'unjustified', coalesce(unjustified_reason, 'unknown'), unjustified_since,
       unjustified_seen, unjustified_seen - unjustified_since + 1, now(), now()
FROM badging.issuance
WHERE unjustified_since IS NOT NULL AND unjustified_seen IS NOT NULL
ON CONFLICT DO NOTHING;
ALTER TABLE badging.issuance DROP COLUMN IF EXISTS unjustified_since;
ALTER TABLE badging.issuance DROP COLUMN IF EXISTS unjustified_seen;
ALTER TABLE badging.issuance DROP COLUMN IF EXISTS unjustified_reason;

-- The source guard: what every table the rules read held when the check looked, compared
-- with the last check that passed (docs/lifecycle.md, "The source guard").
--   census     {measure: count, "site:<measure>": {site: count}}
--   counted    a nightly run of a run that may change badges (streaks advanced)
--   accepted_by  an operator took this census as the new baseline (param accept_source_change)
ALTER TABLE badging.badge_check ADD COLUMN IF NOT EXISTS census jsonb;
ALTER TABLE badging.badge_check ADD COLUMN IF NOT EXISTS counted boolean NOT NULL DEFAULT true;
ALTER TABLE badging.badge_check ADD COLUMN IF NOT EXISTS accepted_by text;

-- A revocation an operator asked for (a badge needing review): who, recorded with the row.
ALTER TABLE badging.revocation ADD COLUMN IF NOT EXISTS requested_by text;
