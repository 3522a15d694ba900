-- The Real-Time rows entered or corrected in the window, with the CTIMS facts the
-- eligibility rules need. This is the only statement that knows the CTIMS model: adapt
-- it, and nothing else, to the production schema.
-- Normalises what instructors type: codes trimmed and upper-cased, emails lower-cased.
-- Output columns must match extract/stage_copy.sql.
COPY (
    SELECT
        %(run_id)s::text                             AS run_id,
        rc.certification_id,
        rc.student_id,
        upper(btrim(rc.assessment_code))             AS assessment_code,
        btrim(rc.site_code)                          AS site_code,
        btrim(rc.program_code)                       AS program_code,
        rc.test_date,
        rc.entered_at,
        rc.updated_at,
        rc.deleted_at,
        btrim(s.first_name)                          AS first_name,
        btrim(s.last_name)                           AS last_name,
        lower(btrim(s.email))                        AS email,
        aa.assessment_code IS NOT NULL               AS assessment_listed,
        aa.approved_from,
        aa.approved_to,
        aa.vendor_issues_badge,
        EXISTS (
            SELECT 1
            FROM ctims.enrollments e
            JOIN ctims.programs p
              ON p.program_code = e.program_code AND p.approved
            JOIN ctims.sites site
              ON site.site_code = p.site_code AND site.accredited
            JOIN ctims.program_assessments pa
              ON pa.program_code = p.program_code AND pa.assessment_code = aa.assessment_code
            WHERE e.student_id = rc.student_id
              AND e.start_date <= rc.test_date
        )                                            AS has_aligned_program,
        coalesce(s.badge_opt_out, false)             AS badge_opt_out
    FROM ctims.realtime_certifications rc
    LEFT JOIN ctims.students s
      ON s.student_id = rc.student_id
    LEFT JOIN ctims.approved_assessments aa
      ON aa.assessment_code = upper(btrim(rc.assessment_code))
    WHERE rc.updated_at >= %(window_start)s
      AND rc.updated_at <  %(window_end)s
) TO STDOUT
