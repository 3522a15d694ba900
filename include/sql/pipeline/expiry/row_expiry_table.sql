-- The expiry of the rows a statement decides by it (pipeline/expiry.py, stage_expiry): the
-- moment the badge would expire (NULL: never, or the validity unknown), whether its validity
-- is known, and whether it would already be expired now. Gone at commit.
CREATE TEMPORARY TABLE IF NOT EXISTS row_expiry (
    certification_id bigint      PRIMARY KEY,
    expires_at       timestamptz,
    known            boolean     NOT NULL,
    expired          boolean     NOT NULL
) ON COMMIT DROP;
TRUNCATE row_expiry;
