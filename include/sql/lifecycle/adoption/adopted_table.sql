-- The badges plan matched in Credly's list (badging/lifecycle/adoption.py), filled by COPY.
CREATE TEMP TABLE IF NOT EXISTS adopted_badge (
    issuance_id     bigint      PRIMARY KEY,
    credly_badge_id text        NOT NULL,
    issued_at       timestamptz,
    matched_by      text        NOT NULL,
    -- Its expiry as Credly has it (NULL: never).
    expires_at      timestamptz
) ON COMMIT DROP;
