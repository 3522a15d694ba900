-- The Real-Time rows entered or corrected in the window, with the CTIMS facts the
-- eligibility rules need. This is the only statement that knows the CTIMS model: adapt
-- it, and nothing else, to the production schema.
-- Normalises what instructors type: codes trimmed and upper-cased, emails lower-cased.
-- Output columns must match pipeline/extract/stage_copy.sql.
-- Set-based on purpose: blueprint alignment is one grouped join over the window's
-- students, not a subquery per row (200,000 of those took 10 s of a 11 s extract).
COPY (
    WITH window_rows AS (
        SELECT rc.*, upper(btrim(rc.assessment_code)) AS code
        FROM ctims.realtime_certifications rc
        WHERE rc.updated_at >= %(window_start)s
          AND rc.updated_at <  %(window_end)s
          -- The incremental badge check reads these students' rows (NULL: every student).
          AND (%(student_ids)s::bigint[] IS NULL OR rc.student_id = ANY(%(student_ids)s::bigint[]))
    ),
    -- Per (student, assessment) of the window, the first start of an enrollment in an
    -- approved program at an accredited site whose blueprint covers the assessment.
    aligned AS (
        SELECT k.student_id, k.code, min(e.start_date) AS first_start
        FROM (SELECT DISTINCT student_id, code FROM window_rows) AS k
        JOIN ctims.enrollments e
          ON e.student_id = k.student_id
        JOIN ctims.program_assessments pa
          ON pa.program_code = e.program_code AND pa.assessment_code = k.code
        JOIN ctims.programs p
          ON p.program_code = e.program_code AND p.approved
        JOIN ctims.sites site
          ON site.site_code = p.site_code AND site.accredited
        GROUP BY k.student_id, k.code
    )
    SELECT
        %(run_id)s::text                             AS run_id,
        rc.certification_id,
        rc.student_id,
        rc.code                                      AS assessment_code,
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
        -- An enrollment started on or before the test date.
        coalesce(al.first_start <= rc.test_date, false) AS has_aligned_program,
        coalesce(s.badge_opt_out, false)             AS badge_opt_out
    FROM window_rows rc
    LEFT JOIN ctims.students s
      ON s.student_id = rc.student_id
    LEFT JOIN ctims.approved_assessments aa
      ON aa.assessment_code = rc.code
    LEFT JOIN aligned al
      ON al.student_id = rc.student_id AND al.code = aa.assessment_code
) TO STDOUT
