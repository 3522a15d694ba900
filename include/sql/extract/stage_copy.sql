-- Receives extract/realtime_rows.sql's output, column for column.
COPY badging.staged_certification (
    run_id, certification_id, student_id, assessment_code, site_code, program_code,
    test_date, entered_at, updated_at, deleted_at, first_name, last_name, email,
    assessment_listed, approved_from, approved_to, vendor_issues_badge,
    has_aligned_program, badge_opt_out
) FROM STDIN
