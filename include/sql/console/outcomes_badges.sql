-- The Outcomes CSV (docs/outcomes.md): one row per badge the summary counts, for the
-- agency's credential-attainment reporting: codes, CTIMS's names, CIP code, who entered it;
-- never a name or an email; the student id only when `with_students` (operators). In the
-- key index's order, so rows stream as they are read (the console reads with a cursor).
SELECT b.certification_id, b.school_year,
       (b.issued_at AT TIME ZONE %(time_zone)s)::date AS issued_on, b.credly_state,
       (b.accepted_at AT TIME ZONE %(time_zone)s)::date AS accepted_on,
       b.site_code, s.name AS site_name, b.program_code, p.name AS program_name, p.cip_code,
       b.assessment_code, a.name AS assessment_name, au.entered_by,
       i.student_id
FROM badging.outcome_badge b
LEFT JOIN badging.ctims_site s ON s.site_code = b.site_code
LEFT JOIN badging.ctims_program p ON p.program_code = b.program_code
LEFT JOIN badging.ctims_assessment a ON a.assessment_code = b.assessment_code
LEFT JOIN badging.entry_author au ON au.certification_id = b.certification_id
LEFT JOIN badging.issuance i ON i.issuance_id = b.issuance_id AND %(with_students)s
WHERE (%(year)s::int IS NULL OR b.school_year = %(year)s)
  AND (%(month)s::date IS NULL OR b.issued_month = %(month)s)
  AND (%(sites)s::text[] IS NULL OR b.site_code = ANY(%(sites)s))
  AND (%(site)s::text IS NULL OR b.site_code = %(site)s)
  AND (%(program)s::text IS NULL OR b.program_code = %(program)s)
  AND (%(assessment)s::text IS NULL OR b.assessment_code = %(assessment)s)
  AND (%(outcome)s::text IS NULL OR b.credly_state = %(outcome)s)
  AND (%(cluster)s::text IS NULL
       OR CASE WHEN p.cip_code ~ '^[0-9]{2}' THEN left(p.cip_code, 2) ELSE '' END
          = %(cluster)s)
ORDER BY b.school_year, b.site_code, b.issued_month, b.program_code, b.assessment_code,
         b.issuance_id;
