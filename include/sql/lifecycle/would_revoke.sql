-- A dry run or a backfill revokes nothing: it audits what it would revoke, once per run
-- and badge: every badge unjustified now, with the reason and its site (the report's).
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       j.certification_id, j.issuance_id, 'would_revoke', j.reason,
       jsonb_build_object('site_code', j.site_code)
FROM badge_justification j
WHERE NOT j.justified
  AND NOT EXISTS (SELECT 1 FROM badging.audit_log a
                  WHERE a.run_id = %(run_id)s AND a.issuance_id = j.issuance_id
                    AND a.event = 'would_revoke');
