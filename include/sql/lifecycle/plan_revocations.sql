-- Plans the revocation of every badge unjustified for `grace_days` successive run days
-- (audit revoke_planned), and gives this run every revocation still open, planned, held or
-- in flight in earlier runs: its gate and revoke task decide them all (a data-modifying WITH
-- runs whether or not the statement reads it). One in flight in a run that died stays
-- claimed until its lease runs out; this run's revoke task then takes it over.
WITH due AS (
    INSERT INTO badging.revocation (issuance_id, credly_badge_id, site_code, reason,
                                    planned_run_id, run_id)
    SELECT i.issuance_id, i.credly_badge_id, j.site_code, i.unjustified_reason,
           %(run_id)s, %(run_id)s
    FROM badging.issuance i
    JOIN badge_justification j ON j.issuance_id = i.issuance_id AND NOT j.justified
    WHERE i.unjustified_seen - i.unjustified_since + 1 >= %(grace_days)s
    ON CONFLICT (issuance_id) WHERE revocation_state IN ('planned', 'held', 'in_flight') DO NOTHING
    RETURNING issuance_id, reason
),
taken AS (
    UPDATE badging.revocation r
    SET run_id = %(run_id)s, updated_at = now()
    WHERE r.revocation_state IN ('planned', 'held', 'in_flight') AND r.run_id <> %(run_id)s
    RETURNING r.revocation_id
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       i.certification_id, d.issuance_id, 'revoke_planned', d.reason
FROM due d JOIN badging.issuance i USING (issuance_id);
