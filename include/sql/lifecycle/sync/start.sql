-- A sync begins (a retry of the same run begins again).
INSERT INTO badging.credly_sync (run_id, started_at, live_before)
VALUES (%(run_id)s, %(started_at)s, %(live_before)s)
ON CONFLICT (run_id) DO UPDATE
SET started_at = excluded.started_at, live_before = excluded.live_before, finished_at = NULL;
