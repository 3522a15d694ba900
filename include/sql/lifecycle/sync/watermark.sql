-- When the last finished sync of another run began: badges that became final since then are
-- the only ones the next sync must find in Credly's list of final badges.
SELECT max(started_at) FROM badging.credly_sync
WHERE finished_at IS NOT NULL AND run_id <> %(run_id)s;
