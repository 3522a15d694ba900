-- Holds the run's staged rows whose version (certification id, updated_at) another run's
-- volume gate judged without letting it through: rejected, unanswered, refused in a backfill,
-- or still waiting for its answer (no decision yet); unless an operator released it
-- (docs/gates.md, "The volume gate's memory"). Decision held, reason held_by_decision:
-- eligibility and plan pass over them, nothing is issued. Audited once per run and row with
-- the decision that holds it. Quarantined rows keep their decision.
WITH covering AS (
    SELECT s.certification_id, j.run_id AS decided_in,
           coalesce(a.event, 'awaiting_answer') AS decided, a.decided_by
    FROM badging.staged_certification s
    JOIN badging.volume_judgement j
      ON j.certification_id = s.certification_id AND j.updated_at = s.updated_at
    LEFT JOIN badging.approval a ON a.run_id = j.run_id AND a.gate = 'volume'
    WHERE s.run_id = %(run_id)s
      AND s.decision IS NULL
      AND j.run_id <> %(run_id)s
      AND j.released_at IS NULL
      AND (a.event IS NULL OR NOT a.event = ANY(%(passes)s))
),
held AS (
    UPDATE badging.staged_certification s
    SET decision = 'held', reason = 'held_by_decision'
    FROM covering c
    WHERE s.run_id = %(run_id)s AND s.certification_id = c.certification_id
    RETURNING s.certification_id
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, event, reason, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       c.certification_id, 'held', 'held_by_decision',
       jsonb_build_object('decided_in', c.decided_in, 'decision', c.decided,
                          'decided_by', c.decided_by)
FROM covering c
JOIN held h USING (certification_id)
WHERE NOT EXISTS (SELECT 1 FROM badging.audit_log a
                  WHERE a.run_id = %(run_id)s AND a.certification_id = c.certification_id
                    AND a.event = 'held');
