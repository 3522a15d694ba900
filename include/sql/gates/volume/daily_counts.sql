-- Real-Time rows changed per agency day over the history the volume band looks at
-- (badging/gates/volume.py), without the row versions a volume decision refused (refused_ids and
-- refused_at, pairwise, from gates/volume/refused_rows.sql): a rejected flood is not history.
-- Reads by updated_at, the extract's key, so the index on it serves.
SELECT (rc.updated_at AT TIME ZONE %(agency_timezone)s)::date AS day,
       count(*)::integer                                       AS row_count
FROM ctims.realtime_certifications rc
WHERE rc.updated_at >= %(history_from)s
  AND rc.updated_at <  %(day_start)s
  AND NOT EXISTS (
      SELECT 1
      FROM unnest(%(refused_ids)s::bigint[], %(refused_at)s::timestamptz[])
           AS refused (certification_id, updated_at)
      WHERE refused.certification_id = rc.certification_id
        AND refused.updated_at = rc.updated_at)
GROUP BY 1
ORDER BY 1;
