-- The run's rows a technology center must look at: rows whose latest terminal event is one
-- of the listed events (quarantined, ineligible), with their site and the checks they broke.
-- Ids, codes and reasons only: no recipient details leave this query.
SELECT certification_id, event, reason, site_code, assessment_code, program_code, expectations
FROM (
    SELECT DISTINCT ON (a.certification_id)
           a.certification_id, a.event, a.reason,
           coalesce(s.site_code, q.site_code) AS site_code, s.assessment_code, s.program_code,
           q.expectations
    FROM badging.audit_log a
    LEFT JOIN badging.staged_certification s
      ON s.run_id = a.run_id AND s.certification_id = a.certification_id
    LEFT JOIN badging.quarantine q
      ON q.run_id = a.run_id AND q.certification_id = a.certification_id
    WHERE a.run_id = %(run_id)s
      AND a.certification_id IS NOT NULL
      AND a.event = ANY(%(terminal_events)s)
    ORDER BY a.certification_id, a.audit_id DESC
) latest
WHERE event = ANY(%(events)s)
ORDER BY certification_id;
