-- The Outcomes CSV (docs/outcomes.md): one row per badge the summary counts, for the
-- agency's credential-attainment reporting, each cell as the CSV's text: codes, CTIMS's
-- names, the CIP code and family, who entered it; never a student's name or email; the
-- student id column is composed in for operators only (console/outcomes.csv_statement). A
-- text a spreadsheet would run as a formula is prefixed with ' (OWASP "CSV injection").
-- Postgres writes it (COPY … CSV): rows in the order they are read, unsorted, so the first go
-- out at once whatever the export's size.
WITH families AS (
    SELECT * FROM unnest(%(family_codes)s::text[], %(family_titles)s::text[])
        AS f(code, title)
),
-- Each program's cluster once (a few hundred rows), not once per badge.
programs AS MATERIALIZED (
    SELECT program_code, name, cip_code,
           CASE WHEN cip_code ~ '^[0-9][0-9]' THEN left(cip_code, 2) ELSE '' END AS cluster
    FROM badging.ctims_program
),
badge AS (
    SELECT b.certification_id, b.school_year, b.issued_at, b.credly_state, b.accepted_at,
           b.site_code, s.name AS site_name, b.program_code, p.name AS program_name,
           p.cip_code, coalesce(p.cluster, '') AS cluster,
           b.assessment_code, a.name AS assessment_name, b.entered_by, i.student_id,
           b.issued_month, b.issuance_id
    FROM badging.outcome_badge b
    LEFT JOIN badging.ctims_site s ON s.site_code = b.site_code
    LEFT JOIN programs p ON p.program_code = b.program_code
    LEFT JOIN badging.ctims_assessment a ON a.assessment_code = b.assessment_code
    LEFT JOIN badging.issuance i ON i.issuance_id = b.issuance_id AND %(with_students)s
    WHERE (%(year)s::int IS NULL OR b.school_year = %(year)s)
      AND (%(month)s::date IS NULL OR b.issued_month = %(month)s)
      AND (%(sites)s::text[] IS NULL OR b.site_code = ANY(%(sites)s))
      AND (%(site)s::text IS NULL OR b.site_code = %(site)s)
      AND (%(program)s::text IS NULL OR b.program_code = %(program)s)
      AND (%(assessment)s::text IS NULL OR b.assessment_code = %(assessment)s)
      AND (%(outcome)s::text IS NULL OR b.credly_state = %(outcome)s)
)
SELECT badge.certification_id AS certification_id,
       badge.school_year || '-' || lpad(((badge.school_year + 1) %% 100)::text, 2, '0')
           AS school_year,
       (badge.issued_at AT TIME ZONE %(time_zone)s)::date AS issued_on,
       badge.credly_state AS outcome,
       (badge.accepted_at AT TIME ZONE %(time_zone)s)::date AS accepted_on,
       badge.site_code AS site_code,
       CASE WHEN badge.site_name ~ '^[-=+@\t\r]' THEN '''' || badge.site_name
            ELSE badge.site_name END AS site_name,
       badge.program_code AS program_code,
       CASE WHEN badge.program_name ~ '^[-=+@\t\r]' THEN '''' || badge.program_name
            ELSE badge.program_name END AS program_name,
       CASE WHEN badge.cip_code ~ '^[-=+@\t\r]' THEN '''' || badge.cip_code
            ELSE badge.cip_code END AS cip_code,
       badge.cluster AS cluster, families.title AS cluster_title,
       badge.assessment_code AS assessment_code,
       CASE WHEN badge.assessment_name ~ '^[-=+@\t\r]' THEN '''' || badge.assessment_name
            ELSE badge.assessment_name END AS assessment_name,
       CASE WHEN badge.entered_by ~ '^[-=+@\t\r]' THEN '''' || badge.entered_by
            ELSE badge.entered_by END AS entered_by
       {student_id}
FROM badge
LEFT JOIN families ON families.code = badge.cluster
WHERE %(cluster)s::text IS NULL OR badge.cluster = %(cluster)s
