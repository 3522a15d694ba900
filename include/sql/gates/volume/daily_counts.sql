-- Real-Time rows changed per agency day over the history the volume band looks at
-- (badging/gates/volume.py), without the row versions a volume decision refused (refused_ids and
-- refused_at, pairwise, from gates/volume/refused_rows.sql): a rejected flood is not history.
-- Reads by updated_at, the extract's key: with nothing refused (the usual night) the planner
-- drops the exclusion and reads the index alone. Counted per UTC hour first, then per agency
-- day: one time-zone conversion per hour instead of per row, exact because the agency's zone
-- (America/Chicago) is whole hours from UTC, so an hour never straddles its midnight.
SELECT (hour AT TIME ZONE %(agency_timezone)s)::date AS day,
       sum(row_count)::integer                        AS row_count
FROM (
    SELECT date_bin(interval '1 hour', rc.updated_at, TIMESTAMPTZ '2000-01-01 00:00+00') AS hour,
           count(*) AS row_count
    FROM ctims.realtime_certifications rc
    WHERE rc.updated_at >= %(history_from)s
      AND rc.updated_at <  %(day_start)s
      AND (cardinality(%(refused_ids)s::bigint[]) = 0 OR NOT EXISTS (
          SELECT 1
          FROM unnest(%(refused_ids)s::bigint[], %(refused_at)s::timestamptz[])
               AS refused (certification_id, updated_at)
          WHERE refused.certification_id = rc.certification_id
            AND refused.updated_at = rc.updated_at))
    GROUP BY 1
) AS hours
GROUP BY 1
ORDER BY 1;
