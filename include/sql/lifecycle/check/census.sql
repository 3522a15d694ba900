-- What every CTIMS table the eligibility rules read holds now: the source guard's census
-- (lifecycle/guard.py). Totals per table, students with no usable email or name (blank, or
-- an address without one @ and a dotted domain), and per site where one site's rows can go
-- missing on their own. Counts only. On the production replica these are full scans of
-- tables the extract reads anyway; the largest, realtime_certifications, is counted twice.
SELECT 'realtime_live', NULL::text, count(*) FILTER (WHERE deleted_at IS NULL)
FROM ctims.realtime_certifications
UNION ALL
SELECT 'realtime_deleted', NULL, count(*) FILTER (WHERE deleted_at IS NOT NULL)
FROM ctims.realtime_certifications
UNION ALL
SELECT 'students', NULL, count(*) FROM ctims.students
UNION ALL
SELECT 'students_blank_email', NULL,
       count(*) FILTER (WHERE coalesce(btrim(email), '') !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$')
FROM ctims.students
UNION ALL
SELECT 'students_blank_name', NULL,
       count(*) FILTER (WHERE coalesce(btrim(first_name), '') = ''
                           OR coalesce(btrim(last_name), '') = '')
FROM ctims.students
UNION ALL
SELECT 'enrollments', NULL, count(*) FROM ctims.enrollments
UNION ALL
SELECT 'programs', NULL, count(*) FROM ctims.programs
UNION ALL
SELECT 'sites', NULL, count(*) FROM ctims.sites
UNION ALL
SELECT 'approved_assessments', NULL, count(*) FROM ctims.approved_assessments
UNION ALL
SELECT 'program_assessments', NULL, count(*) FROM ctims.program_assessments
UNION ALL
SELECT 'realtime_live', coalesce(btrim(site_code), ''), count(*)
FROM ctims.realtime_certifications
WHERE deleted_at IS NULL
GROUP BY 2
UNION ALL
SELECT 'enrollments', p.site_code::text, count(*)
FROM ctims.enrollments e
JOIN ctims.programs p USING (program_code)
GROUP BY 2
UNION ALL
SELECT 'programs', site_code::text, count(*)
FROM ctims.programs
GROUP BY 2;
