-- The buckets' digests as CTIMS holds them tonight (lifecycle/check/bucket_digests.sql);
-- gone at commit.
CREATE TEMPORARY TABLE IF NOT EXISTS source_bucket (
    bucket  integer PRIMARY KEY,
    entries bigint  NOT NULL,
    digest  numeric NOT NULL
) ON COMMIT DROP;
