-- A badge found justified again ends its streak (audit justified_again) and any revocation
-- still open for it is cancelled (audit revoke_cancelled): a row deleted and entered again
-- within the grace period causes nothing. Only revocations: a name or email correction is
-- planned for a justified badge.
WITH ended AS (
    UPDATE badging.issuance i
    SET unjustified_since = NULL, unjustified_seen = NULL, unjustified_reason = NULL,
        updated_at = now()
    FROM badge_justification j
    WHERE j.issuance_id = i.issuance_id AND j.justified AND i.unjustified_since IS NOT NULL
    RETURNING i.issuance_id, i.certification_id
),
cancelled AS (
    UPDATE badging.revocation r
    SET revocation_state = 'cancelled', claimed_by = NULL, claimed_at = NULL, updated_at = now()
    FROM badge_justification j
    WHERE j.issuance_id = r.issuance_id AND j.justified AND r.revocation_state IN ('planned', 'held')
      AND r.action = 'revoke'
    RETURNING r.issuance_id, r.reason
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       e.certification_id, e.issuance_id, 'justified_again', NULL
FROM ended e
UNION ALL
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       i.certification_id, c.issuance_id, 'revoke_cancelled', c.reason
FROM cancelled c JOIN badging.issuance i USING (issuance_id);
