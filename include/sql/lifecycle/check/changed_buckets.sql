-- The buckets whose entries changed since the last nightly check: a digest or count that is
-- not the one kept, a bucket new tonight or one whose entries all went.
SELECT bucket
FROM source_bucket n
FULL JOIN badging.check_snapshot_bucket s USING (bucket)
WHERE (n.entries, n.digest) IS DISTINCT FROM (s.entries, s.digest)
ORDER BY bucket;
