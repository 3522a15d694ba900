-- What the latest report learnt of Credly, and the latest authorization failure any report
-- recorded (class and HTTP status only).
SELECT latest.run_id, latest.checked_at, latest.templates_read, latest.templates_error,
       latest.token_created_on, latest.token_rotation_days,
       failure.auth_failed_at, failure.auth_failure, failure.run_id AS auth_failed_run_id
FROM (SELECT * FROM badging.credly_health ORDER BY checked_at DESC LIMIT 1) latest
LEFT JOIN LATERAL (SELECT run_id, auth_failed_at, auth_failure FROM badging.credly_health
                   WHERE auth_failed_at IS NOT NULL
                   ORDER BY auth_failed_at DESC LIMIT 1) failure ON true;
