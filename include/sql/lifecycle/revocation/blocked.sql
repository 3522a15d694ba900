-- Whether this run may change badges, as its check recorded it: why not (NULL: it may),
-- and whether it was a night of the check. No row: no check ran.
SELECT blocked, counted FROM badging.badge_check WHERE run_id = %(run_id)s;
