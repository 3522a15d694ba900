-- An operator's release (param release_rejected_volume) of what the volume decisions of the
-- run's days hold: rejected, timed out, refused in a backfill, or never answered (a run
-- stopped while it waited). Each released version records who released it, when and in
-- which run; the audit log gets one volume_released row per released decision with the same
-- (about the run: no certification id). The releasing run stages and issues the rows.
WITH released AS (
    UPDATE badging.volume_judgement j
    SET released_by = %(released_by)s, released_at = %(released_at)s,
        released_run_id = %(run_id)s
    WHERE j.logical_date BETWEEN %(first_day)s AND %(day)s
      AND j.run_id <> %(run_id)s
      AND j.released_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM badging.approval a
                      WHERE a.run_id = j.run_id AND a.gate = 'volume'
                        AND a.event = ANY(%(passes)s))
    RETURNING j.run_id
),
per_run AS (
    SELECT r.run_id, count(*)::integer AS row_count,
           coalesce(a.event, 'awaiting_answer') AS decided, a.decided_by
    FROM released r
    LEFT JOIN badging.approval a ON a.run_id = r.run_id AND a.gate = 'volume'
    GROUP BY r.run_id, a.event, a.decided_by
),
audited AS (
    INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                                   event, detail)
    SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
           'volume_released',
           jsonb_build_object('released_run_id', run_id, 'decision', decided,
                              'decided_by', decided_by, 'rows', row_count,
                              'released_by', %(released_by)s::text,
                              'released_at', %(released_at)s::timestamptz)
    FROM per_run
)
SELECT run_id, decided, row_count FROM per_run ORDER BY run_id;
