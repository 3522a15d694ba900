-- The live CTIMS total the latest earlier unblocked check saw (the collapse guard's baseline).
SELECT live_rows
FROM badging.badge_check
WHERE run_id <> %(run_id)s AND blocked IS NULL
ORDER BY checked_at DESC
LIMIT 1;
