-- The columns the row-level suite checks; entered_date is the Chicago day of entry.
SELECT certification_id,
       student_id,
       email,
       first_name,
       last_name,
       assessment_code,
       site_code,
       test_date,
       (entered_at AT TIME ZONE 'America/Chicago')::date AS entered_date
FROM badging.staged_certification
WHERE run_id = %(run_id)s;
