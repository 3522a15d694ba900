-- Audits the decisions a task took for this run's staged rows, once: a re-run of the
-- task that reaches the same decision adds nothing.
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason, detail)
SELECT s.run_id, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       s.certification_id, s.issuance_id, s.decision, s.reason,
       CASE WHEN q.expectations IS NOT NULL
            THEN jsonb_build_object('expectations', to_jsonb(q.expectations))
            ELSE '{}'::jsonb END
FROM badging.staged_certification s
LEFT JOIN badging.quarantine q
  ON q.run_id = s.run_id AND q.certification_id = s.certification_id
WHERE s.run_id = %(run_id)s
  AND s.decision = ANY(%(events)s)
  AND NOT EXISTS (
      SELECT 1 FROM badging.audit_log a
      WHERE a.run_id = s.run_id
        AND a.certification_id = s.certification_id
        AND a.event = s.decision
        AND a.reason IS NOT DISTINCT FROM s.reason);
