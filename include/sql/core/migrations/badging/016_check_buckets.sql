-- The incremental check's diff reads what changed, not every entry (issue 30; docs/lifecycle.md,
-- "A night costs what the day holds"). CTIMS's Real-Time entries fall into 65,536 buckets by
-- id (certification_id % 65536); CTIMS sums each bucket into a digest
-- (lifecycle/check/bucket_digests.sql), and the check streams and diffs only the buckets whose
-- digest is not the one the last nightly check kept here.
CREATE TABLE IF NOT EXISTS badging.check_snapshot_bucket (
    bucket  integer PRIMARY KEY,
    entries bigint  NOT NULL,
    digest  numeric NOT NULL
);

-- The snapshot's entries of the changed buckets, found without reading the rest.
CREATE INDEX IF NOT EXISTS check_snapshot_bucket_idx
    ON badging.check_snapshot ((certification_id % 65536));

-- How many buckets an incremental check read (NULL: all, a full check).
ALTER TABLE badging.badge_check ADD COLUMN IF NOT EXISTS buckets_read integer;
