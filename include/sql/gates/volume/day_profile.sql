-- The Real-Time rows a volume gate judges (certification_ids) per agency day they changed on
-- and site: how many, how many repeat a certification already entered under another id, and
-- the site's usual share of the year before usual_until.
-- A replayed or duplicated extract (the same rows again with new ids) shows as a high
-- duplicate count. Site codes and counts only: nothing about the students leaves.
-- Set-based: one hash join of the day's keys against the table, not a lookup per row
-- (CTIMS has no index on student_id, and the source is read only).
WITH day_rows AS (
    SELECT rc.certification_id, rc.student_id, upper(btrim(rc.assessment_code)) AS code,
           rc.test_date, rc.entered_at, btrim(rc.site_code) AS site_code,
           (rc.updated_at AT TIME ZONE %(agency_timezone)s)::date AS day
    FROM ctims.realtime_certifications rc
    JOIN unnest(%(certification_ids)s::bigint[]) AS judged (certification_id)
      ON judged.certification_id = rc.certification_id
),
-- Rows of the day whose (student, assessment, test date) an earlier, live row already has.
repeated AS (
    SELECT DISTINCT d.certification_id
    FROM day_rows d
    JOIN ctims.realtime_certifications e
      ON e.student_id = d.student_id
     AND e.test_date = d.test_date
     AND upper(btrim(e.assessment_code)) = d.code
    WHERE e.certification_id <> d.certification_id
      AND e.deleted_at IS NULL
      AND (e.entered_at, e.certification_id) < (d.entered_at, d.certification_id)
),
usual AS (
    SELECT btrim(rc.site_code) AS site_code,
           count(*)::double precision / sum(count(*)) OVER () AS share
    FROM ctims.realtime_certifications rc
    WHERE rc.updated_at >= %(usual_until)s - interval '365 days'
      AND rc.updated_at <  %(usual_until)s
    GROUP BY 1
)
SELECT d.day,
       coalesce(d.site_code, '')                        AS site_code,
       count(*)::integer                                AS row_count,
       count(r.certification_id)::integer               AS duplicates,
       u.share                                          AS usual_share
FROM day_rows d
LEFT JOIN repeated r ON r.certification_id = d.certification_id
LEFT JOIN usual u ON u.site_code IS NOT DISTINCT FROM d.site_code
GROUP BY d.day, d.site_code, u.share
ORDER BY d.day, row_count DESC, site_code;
