-- The decision in the append-only audit log: who (detail.decided_by), when, on what counts.
-- Once: a retried task that reaches the same decision by the same person adds nothing, while
-- a cleared run that decides again (another answer or another person) is recorded.
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               event, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       %(event)s, %(detail)s
WHERE NOT EXISTS (
    SELECT 1 FROM (
        SELECT event, detail FROM badging.audit_log
        WHERE run_id = %(run_id)s AND detail->>'gate' = %(detail)s::jsonb->>'gate'
        ORDER BY audit_id DESC LIMIT 1) AS latest
    WHERE latest.event = %(event)s
      AND latest.detail->>'decided_by' IS NOT DISTINCT FROM %(detail)s::jsonb->>'decided_by');
