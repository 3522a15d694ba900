-- What this report learnt of Credly (a retried report records again).
INSERT INTO badging.credly_health (run_id, checked_at, templates_read, templates_error,
                                   auth_failed_at, auth_failure, token_created_on,
                                   token_rotation_days)
VALUES (%(run_id)s, %(checked_at)s, %(templates_read)s, %(templates_error)s,
        %(auth_failed_at)s, %(auth_failure)s, %(token_created_on)s, %(token_rotation_days)s)
ON CONFLICT (run_id) DO UPDATE
SET checked_at = EXCLUDED.checked_at, templates_read = EXCLUDED.templates_read,
    templates_error = EXCLUDED.templates_error, auth_failed_at = EXCLUDED.auth_failed_at,
    auth_failure = EXCLUDED.auth_failure, token_created_on = EXCLUDED.token_created_on,
    token_rotation_days = EXCLUDED.token_rotation_days;
