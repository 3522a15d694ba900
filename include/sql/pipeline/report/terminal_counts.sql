-- How each staged row of the run ended: its latest terminal audit event. Badges the run
-- swept in from other runs (detail.swept) are not part of its story.
WITH last_terminal AS (
    SELECT DISTINCT ON (certification_id) certification_id, event, reason
    FROM badging.audit_log
    WHERE run_id = %(run_id)s
      AND certification_id IS NOT NULL
      AND event = ANY(%(terminal_events)s)
      AND NOT detail ? 'swept'
    ORDER BY certification_id, audit_id DESC
)
SELECT event, coalesce(reason, '') AS reason, count(*)
FROM last_terminal
GROUP BY event, reason
ORDER BY event, reason;
