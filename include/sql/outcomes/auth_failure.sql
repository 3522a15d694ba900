-- The run's latest Credly authorization failure, if any: a badge handed back for it (audit
-- reason `CredlyAuthError (HTTP 401)`, errors.error_label) or a task that failed on it (its
-- one-line reason ends with the HTTP status). Class and status only, never the token.
SELECT at, reason
FROM (
    SELECT logged_at AS at, reason
    FROM badging.audit_log
    WHERE run_id = %(run_id)s AND reason LIKE %(auth_label)s
    UNION ALL
    SELECT failed_at, reason
    FROM badging.task_failure
    WHERE run_id = %(run_id)s AND (reason LIKE %(auth_anywhere)s OR reason ~ 'HTTP 40[13]')
) failures
ORDER BY at DESC
LIMIT 1;
