-- Why this run may not revoke, as its check recorded it (NULL: it may; no row: no check).
SELECT blocked FROM badging.badge_check WHERE run_id = %(run_id)s;
