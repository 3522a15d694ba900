-- Name and email corrections after issuance (issue 13; docs/recipient-corrections.md): the
-- ledger remembers whom it issued to as keyed digests (never the name or the address), so a
-- later check sees a corrected name (replace the badge) or email (move a pending badge).

-- Keyed digests (constants.DIGEST, computed in Python with the earner id's secret) of the
-- lower-cased email and of first|last name the badge carries. NULL until the first check
-- after issuance records them as the baseline.
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS recipient_digest text;
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS name_digest      text;

-- One table for every change the pipeline makes to an issued badge in Credly: they share the
-- claim, fence, lease and the revocation gate. `action` says which call the row makes.
ALTER TABLE badging.revocation
    ADD COLUMN IF NOT EXISTS action text NOT NULL DEFAULT 'revoke'
        CHECK (action IN ('revoke', 'replace', 'move'));
-- The live entry that justifies the badge now: its student's current name and address are
-- read from CTIMS at call time (never stored here).
ALTER TABLE badging.revocation ADD COLUMN IF NOT EXISTS certification_id bigint;
-- The digests the badge will carry once the correction is done (ledger baseline after it).
ALTER TABLE badging.revocation ADD COLUMN IF NOT EXISTS recipient_digest text;
ALTER TABLE badging.revocation ADD COLUMN IF NOT EXISTS name_digest      text;
-- A replace's new Credly badge (the ledger row carries it; credly_badge_id keeps the old).
ALTER TABLE badging.revocation ADD COLUMN IF NOT EXISTS replacement_badge_id text;

-- The ends of a correction: replaced, moved (revoked, the ledger row pending again for the
-- new address) and kept (an accepted badge whose email changed: left alone, reported).
ALTER TABLE badging.revocation DROP CONSTRAINT IF EXISTS revocation_revocation_state_check;
ALTER TABLE badging.revocation ADD CONSTRAINT revocation_revocation_state_check
    CHECK (revocation_state IN ('planned', 'held', 'in_flight', 'revoked', 'failed', 'cancelled',
                                'replaced', 'moved', 'kept'));
