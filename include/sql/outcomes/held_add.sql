-- The run's entries held by an operator's decision (audit event `held`, issue 28), with the
-- site their staged row names: a technology center's page lists them until a later decision
-- closes them (outcomes/held_resolve.sql).
INSERT INTO badging.outcome_held AS h (certification_id, site_code, run_id, reason, held_at)
SELECT DISTINCT ON (a.certification_id) a.certification_id, s.site_code, a.run_id, a.reason,
       a.logged_at
FROM badging.audit_log a
LEFT JOIN badging.staged_certification s
  ON s.run_id = a.run_id AND s.certification_id = a.certification_id
WHERE a.run_id = %(run_id)s
  AND a.event = %(held_event)s
  AND a.certification_id IS NOT NULL
ORDER BY a.certification_id, a.logged_at DESC
ON CONFLICT (certification_id) DO UPDATE
SET site_code = coalesce(EXCLUDED.site_code, h.site_code), run_id = EXCLUDED.run_id,
    reason = EXCLUDED.reason, held_at = EXCLUDED.held_at;
