-- Issue 30: an ordinary night's check streams the Real-Time entries of the few buckets whose
-- digest moved (lifecycle/check/source_ids.sql, certification_id % 65536). Without an index on
-- the bucket that read every entry of the history to keep a few thousand. The production CTIMS
-- replica needs the same index (docs/production.md, "The CTIMS side").
CREATE INDEX IF NOT EXISTS realtime_bucket_idx
    ON ctims.realtime_certifications ((certification_id % 65536));
