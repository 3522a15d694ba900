-- A run that is not a night of the check (a dry run, a manual run of a past day) revokes
-- nothing: it audits the badges whose own entries no longer earn them, once per run and
-- badge, with the reason and its site (the report's). Badges only a reference table refuses
-- are never revoked by the pipeline, so they are not would_revoke.
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       j.certification_id, j.issuance_id, 'would_revoke', j.reason,
       jsonb_build_object('site_code', j.site_code)
FROM badge_justification j
WHERE NOT j.justified AND j.cause = 'entry'
  AND NOT EXISTS (SELECT 1 FROM badging.audit_log a
                  WHERE a.run_id = %(run_id)s AND a.issuance_id = j.issuance_id
                    AND a.event = 'would_revoke');
