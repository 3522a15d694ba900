-- Real-Time rows changed per agency day over the history the volume band looks at
-- (badging/volume.py): the same measure as the judged day's count (day_profile.sql).
-- Reads by updated_at, the extract's key, so the index on it serves.
SELECT (rc.updated_at AT TIME ZONE %(agency_timezone)s)::date AS day,
       count(*)::integer                                       AS row_count
FROM ctims.realtime_certifications rc
WHERE rc.updated_at >= %(history_from)s
  AND rc.updated_at <  %(day_start)s
GROUP BY 1
ORDER BY 1;
