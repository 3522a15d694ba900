-- The row versions changed in [history_from, day_start) that a volume decision did not let
-- through and nobody released (rejected, timed out, refused, or not answered yet): the
-- band's history leaves them out (gates/volume/daily_counts.sql), so a rejected flood never makes
-- the next one look normal.
SELECT j.certification_id, j.updated_at
FROM badging.volume_judgement j
LEFT JOIN badging.approval a ON a.run_id = j.run_id AND a.gate = 'volume'
WHERE j.updated_at >= %(history_from)s
  AND j.updated_at <  %(day_start)s
  AND j.released_at IS NULL
  AND (a.event IS NULL OR NOT a.event = ANY(%(passes)s));
