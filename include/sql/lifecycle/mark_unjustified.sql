-- Counts this run's day in each unjustified badge's streak. A day right after the streak's
-- last one extends it; a later day after a gap starts a new streak (audit unjustified); the
-- same or an earlier day (a re-run, an old day run again) changes nothing, so a streak only
-- ever counts successive days forward.
WITH counted AS (
    UPDATE badging.issuance i
    SET unjustified_since  = CASE WHEN i.unjustified_seen = %(day)s::date - 1
                                  THEN i.unjustified_since ELSE %(day)s::date END,
        unjustified_seen   = %(day)s::date,
        unjustified_reason = j.reason,
        updated_at         = now()
    FROM badge_justification j
    WHERE j.issuance_id = i.issuance_id
      AND NOT j.justified
      AND (i.unjustified_seen IS NULL OR i.unjustified_seen < %(day)s::date)
    RETURNING i.issuance_id, i.certification_id, i.unjustified_since, j.reason
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       certification_id, issuance_id, 'unjustified', reason
FROM counted
WHERE unjustified_since = %(day)s::date;
