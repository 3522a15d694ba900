-- Receives pipeline/extract/realtime_rows.sql's output, column for column, then the flag the
-- extract appends to each row: false when CTIMS's bytes for the row were not valid UTF-8
-- (extract.Utf8Lines; validate quarantines the row).
COPY badging.staged_certification (
    run_id, certification_id, student_id, assessment_code, site_code, program_code,
    test_date, entered_at, updated_at, deleted_at, first_name, last_name, email,
    assessment_listed, approved_from, approved_to, vendor_issues_badge,
    has_aligned_program, badge_opt_out, text_valid_utf8
) FROM STDIN
