-- The latest nightly check that changed badges (counted): its day and CTIMS's clock when it
-- began; whether the snapshot holds anything. No row: never a completed nightly check.
SELECT c.logical_date, c.source_time, EXISTS (SELECT 1 FROM badging.check_snapshot)
FROM badging.badge_check c
WHERE c.counted AND c.run_id <> %(run_id)s
ORDER BY c.checked_at DESC
LIMIT 1;
