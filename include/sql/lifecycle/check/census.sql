-- What every CTIMS table the eligibility rules read holds now: the source guard's census
-- (lifecycle/guard.py). Totals per table, students with no usable email or name (blank, or
-- an address without one @ and a dotted domain), and per site where one site's rows can go
-- missing on their own. Counts only. One read of each table (the students' unusable addresses
-- and names by indexes): the largest ones are the history, and the census runs every night.
-- The large tables are grouped by their raw values first (a few hundred groups), trimmed and
-- joined after: half the work of doing it for every row.
WITH realtime AS (
    SELECT coalesce(btrim(site_code), '') AS site,
           coalesce(sum(n) FILTER (WHERE NOT deleted), 0)::bigint AS live,
           coalesce(sum(n) FILTER (WHERE deleted), 0)::bigint AS deleted
    FROM (SELECT site_code, deleted_at IS NOT NULL AS deleted, count(*) AS n
          FROM ctims.realtime_certifications
          GROUP BY 1, 2) AS raw
    GROUP BY 1
),
-- Counted from ctims migration 007's partial indexes where CTIMS has them: the predicates are
-- the indexes', character for character. Without them, more reads of every student.
unusable_email AS (
    SELECT 1
    FROM ctims.students
    WHERE coalesce(btrim(email), '') !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
),
blank_name AS (
    SELECT 1
    FROM ctims.students
    WHERE coalesce(btrim(first_name), '') = '' OR coalesce(btrim(last_name), '') = ''
),
students AS (
    SELECT count(*) AS total,
           (SELECT count(*) FROM unusable_email) AS blank_email,
           (SELECT count(*) FROM blank_name) AS blank_name
    FROM ctims.students
),
enrollments AS (
    SELECT p.site_code::text AS site, sum(e.n)::bigint AS n
    FROM (SELECT program_code, count(*) AS n FROM ctims.enrollments GROUP BY 1) AS e
    LEFT JOIN ctims.programs p USING (program_code)
    GROUP BY 1
)
SELECT 'realtime_live', NULL::text, coalesce(sum(live), 0)::bigint FROM realtime
UNION ALL
SELECT 'realtime_deleted', NULL, coalesce(sum(deleted), 0)::bigint FROM realtime
UNION ALL
SELECT measure, NULL, n
FROM students, LATERAL (VALUES ('students', total), ('students_blank_email', blank_email),
                               ('students_blank_name', blank_name)) AS m (measure, n)
UNION ALL
SELECT 'enrollments', NULL, coalesce(sum(n), 0)::bigint FROM enrollments
UNION ALL
SELECT 'programs', NULL, count(*) FROM ctims.programs
UNION ALL
SELECT 'sites', NULL, count(*) FROM ctims.sites
UNION ALL
SELECT 'approved_assessments', NULL, count(*) FROM ctims.approved_assessments
UNION ALL
SELECT 'program_assessments', NULL, count(*) FROM ctims.program_assessments
UNION ALL
SELECT 'realtime_live', site, live FROM realtime WHERE live > 0
UNION ALL
SELECT 'enrollments', site, n FROM enrollments WHERE site IS NOT NULL
UNION ALL
SELECT 'programs', site_code::text, count(*)
FROM ctims.programs
GROUP BY 2;
