-- Plans the revocations an operator asked for (param revoke_reviewed, with who triggered the
-- run): only badges waiting for review, a reference table refusing them tonight; they go
-- through the revocation gate like any other (audit revoke_requested).
WITH requested AS (
    INSERT INTO badging.revocation (issuance_id, credly_badge_id, site_code, reason,
                                    planned_run_id, run_id, requested_by)
    SELECT i.issuance_id, i.credly_badge_id, f.site_code, f.detail, %(run_id)s, %(run_id)s,
           %(requested_by)s
    FROM badging.badge_finding f
    JOIN badging.issuance i ON i.issuance_id = f.issuance_id AND i.state = 'issued'
    WHERE f.kind = 'needs_review'
      AND f.last_day = %(day)s
      AND i.certification_id = ANY(%(certification_ids)s)
    ON CONFLICT (issuance_id) WHERE revocation_state IN ('planned', 'held', 'in_flight') DO NOTHING
    RETURNING issuance_id, reason
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       i.certification_id, r.issuance_id, 'revoke_requested', r.reason,
       jsonb_build_object('requested_by', %(requested_by)s)
FROM requested r JOIN badging.issuance i USING (issuance_id);
