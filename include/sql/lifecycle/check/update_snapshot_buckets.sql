-- The buckets' digests become tonight's (source_bucket), written where they changed: the next
-- nightly check reads only the buckets whose digest moves from these.
WITH gone AS (
    DELETE FROM badging.check_snapshot_bucket s
    WHERE NOT EXISTS (SELECT 1 FROM source_bucket n WHERE n.bucket = s.bucket)
)
INSERT INTO badging.check_snapshot_bucket (bucket, entries, digest)
SELECT n.bucket, n.entries, n.digest
FROM source_bucket n
LEFT JOIN badging.check_snapshot_bucket s USING (bucket)
WHERE (n.entries, n.digest) IS DISTINCT FROM (s.entries, s.digest)
ON CONFLICT (bucket) DO UPDATE SET entries = EXCLUDED.entries, digest = EXCLUDED.digest;
