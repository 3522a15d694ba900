-- The latest nightly check that changed badges (counted): its day and CTIMS's clock when it
-- began; whether the snapshot and its bucket digests hold anything (both are written by a
-- counted night; migration 016 added the digests). No row: never a completed nightly check.
SELECT c.logical_date, c.source_time,
       EXISTS (SELECT 1 FROM badging.check_snapshot)
       AND EXISTS (SELECT 1 FROM badging.check_snapshot_bucket)
FROM badging.badge_check c
WHERE c.counted AND c.run_id <> %(run_id)s
ORDER BY c.checked_at DESC
LIMIT 1;
