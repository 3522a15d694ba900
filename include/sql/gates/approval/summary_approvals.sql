-- Copies the run's gate decisions into its run summary (no-op before the report wrote it).
UPDATE badging.run_summary s
SET approvals = coalesce((
        SELECT jsonb_object_agg(a.gate, jsonb_build_object(
                   'event', a.event, 'decided_by', a.decided_by,
                   'decided_at', a.decided_at, 'summary', a.summary))
        FROM badging.approval a
        WHERE a.run_id = s.run_id), '{}'::jsonb)
WHERE s.run_id = %(run_id)s;
