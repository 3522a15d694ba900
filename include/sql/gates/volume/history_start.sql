-- The first agency day the feed has rows: days before it are no history, not quiet days.
SELECT (min(rc.updated_at) AT TIME ZONE %(agency_timezone)s)::date AS first_day
FROM ctims.realtime_certifications rc;
