-- The columns the suites check; entered_date is the agency's day of entry, entry_lag_days
-- the days from the test to its entry, approved_* the assessment's approval window,
-- text_valid_utf8 whether CTIMS's bytes for the row were UTF-8 (extract.Utf8Lines).
SELECT certification_id,
       student_id,
       email,
       first_name,
       last_name,
       assessment_code,
       site_code,
       test_date,
       (entered_at AT TIME ZONE %(agency_timezone)s)::date             AS entered_date,
       (entered_at AT TIME ZONE %(agency_timezone)s)::date - test_date AS entry_lag_days,
       approved_from,
       approved_to,
       text_valid_utf8
FROM badging.staged_certification
WHERE run_id = %(run_id)s;
