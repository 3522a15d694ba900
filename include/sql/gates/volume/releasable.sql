-- What release.sql would release for this run: how many row versions, and the earliest
-- change among them (the run must stage them to issue them).
SELECT count(*), min(j.updated_at)
FROM badging.volume_judgement j
WHERE j.logical_date BETWEEN %(first_day)s AND %(day)s
  AND j.run_id <> %(run_id)s
  AND j.released_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM badging.approval a
                  WHERE a.run_id = j.run_id AND a.gate = 'volume'
                    AND a.event = ANY(%(passes)s));
