-- The CTIMS names of the sites, programs and assessments a report shows (names are not
-- personal data). Codes are normalised as pipeline/extract/realtime_rows.sql normalises them.
SELECT 'site' AS kind, btrim(site_code) AS code, name
FROM ctims.sites
WHERE btrim(site_code) = ANY(%(sites)s)
UNION ALL
SELECT 'program', btrim(program_code), name
FROM ctims.programs
WHERE btrim(program_code) = ANY(%(programs)s)
UNION ALL
SELECT 'assessment', upper(btrim(assessment_code)), name
FROM ctims.approved_assessments
WHERE upper(btrim(assessment_code)) = ANY(%(assessments)s);
