-- The report task copies CTIMS's sites, programs and approved assessments into the badging
-- database (docs/outcomes.md): names beside codes and each program's CIP code for the
-- console, which reads the badging database only. Codes are normalised as
-- extract/realtime_rows.sql normalises them. Reads CTIMS (read-only session).
SELECT 'site' AS kind, btrim(site_code) AS code, name, NULL::text AS cip_code,
       NULL::text AS site_code, NULL::text AS vendor, NULL::boolean AS vendor_issues_badge,
       NULL::date AS approved_from, NULL::date AS approved_to
FROM ctims.sites
UNION ALL
SELECT 'program', btrim(program_code), name, btrim(cip_code), btrim(site_code), NULL, NULL,
       NULL, NULL
FROM ctims.programs
UNION ALL
SELECT 'assessment', upper(btrim(assessment_code)), name, NULL, NULL, vendor,
       vendor_issues_badge, approved_from, approved_to
FROM ctims.approved_assessments;
