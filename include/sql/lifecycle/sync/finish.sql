-- A sync ended: its counts and requests (the bench compares them with the paged floor).
UPDATE badging.credly_sync
SET finished_at = now(), changed = %(changed)s, requests = %(requests)s, counts = %(counts)s
WHERE run_id = %(run_id)s;
