-- CTIMS's names of the codes a console page shows, from the copy the report task keeps
-- (migration 014: the console reads the badging database only). Names are not personal data.
SELECT 'site' AS kind, site_code AS code, name
FROM badging.ctims_site WHERE site_code = ANY(%(sites)s)
UNION ALL
SELECT 'program', program_code, name
FROM badging.ctims_program WHERE program_code = ANY(%(programs)s)
UNION ALL
SELECT 'assessment', assessment_code, name
FROM badging.ctims_assessment WHERE assessment_code = ANY(%(assessments)s);
