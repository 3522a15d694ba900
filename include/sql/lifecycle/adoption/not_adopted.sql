-- Audits the badges Credly holds at a student's address that adoption may not take
-- (badging/lifecycle/adoption.py, docs/history-load.md): one `not_adopted` row per badge and run, its
-- reason one of constants.ADOPTION_REASONS (name_mismatch, shared_email, other_earner); no
-- name, no Credly id. The badge stays pending and goes on to issue, where Credly refuses the
-- duplicate and the lookup fails it for the same reason: a person decides whose it is.
-- A plan retried reaches the same decisions and adds nothing.
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       i.certification_id, i.issuance_id, 'not_adopted', t.reason,
       -- Planned by another run: not part of this run's story (as lifecycle/adoption/adopt.sql).
       CASE WHEN b.swept THEN '{"swept": true}'::jsonb ELSE '{}'::jsonb END
FROM unnest(%(issuance_ids)s::bigint[], %(reasons)s::text[]) AS t(issuance_id, reason)
JOIN badging.issuance i ON i.issuance_id = t.issuance_id
JOIN badging.run_batch b ON b.run_id = %(run_id)s AND b.issuance_id = t.issuance_id
WHERE i.state = 'pending'
  AND NOT EXISTS (SELECT 1 FROM badging.audit_log a
                  WHERE a.run_id = %(run_id)s
                    AND a.certification_id = i.certification_id  -- audit_log_run_idx
                    AND a.event = 'not_adopted'
                    AND a.issuance_id = t.issuance_id
                    AND a.reason = t.reason);
