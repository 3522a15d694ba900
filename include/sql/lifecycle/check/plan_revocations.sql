-- Plans the revocation of every badge whose own entries have not earned it for the grace
-- (docs/lifecycle.md, "Grace is nightly time"): an `unjustified` finding seen by at least
-- `grace_days` nightly runs in a row, the first at least grace_days x 24 hours before
-- tonight's (audit revoke_planned). At most one open change per badge.
WITH due AS (
    INSERT INTO badging.revocation (issuance_id, credly_badge_id, site_code, reason,
                                    planned_run_id, run_id)
    SELECT i.issuance_id, i.credly_badge_id, f.site_code, f.detail, %(run_id)s, %(run_id)s
    FROM badging.badge_finding f
    JOIN badging.issuance i ON i.issuance_id = f.issuance_id AND i.state = 'issued'
    WHERE f.kind = 'unjustified'
      AND f.last_day = %(day)s
      AND f.nights >= %(grace_days)s
      AND f.last_seen_at >= f.first_seen_at + make_interval(days => %(grace_days)s)
    ON CONFLICT (issuance_id) WHERE revocation_state IN ('planned', 'held', 'in_flight') DO NOTHING
    RETURNING issuance_id, reason
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       i.certification_id, d.issuance_id, 'revoke_planned', d.reason
FROM due d JOIN badging.issuance i USING (issuance_id);
