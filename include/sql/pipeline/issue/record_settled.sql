-- Closes this run's story for a badge it found settled without its own attempt (another
-- run issued or failed it): once per run and row, so a retried issue task that walks its
-- batch again adds no second terminal event.
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       %(certification_id)s, %(issuance_id)s, %(event)s, %(reason)s, %(detail)s
WHERE NOT EXISTS (
    SELECT 1 FROM badging.audit_log
    WHERE run_id = %(run_id)s
      AND certification_id = %(certification_id)s
      AND event = ANY(%(terminal_events)s));
