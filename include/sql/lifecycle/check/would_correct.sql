-- A run that is not a night of the check (a dry run, a manual run of a past day) changes no
-- badge: it audits the corrections tonight's findings point to, once per run and badge
-- (would_move for a corrected address, else would_replace). Nothing counts toward a grace.
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       i.certification_id, o.issuance_id,
       CASE WHEN o.reason = 'email_corrected' THEN 'would_move' ELSE 'would_replace' END,
       o.reason
FROM badge_observed o
JOIN badging.issuance i ON i.issuance_id = o.issuance_id
WHERE o.kind = 'recipient_changed'
  AND NOT EXISTS (SELECT 1 FROM badging.audit_log a
                  WHERE a.run_id = %(run_id)s AND a.issuance_id = o.issuance_id
                    AND a.event IN ('would_move', 'would_replace'));
