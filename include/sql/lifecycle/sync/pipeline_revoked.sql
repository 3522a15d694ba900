-- A badge the pipeline revoked itself is revoked in Credly without asking Credly: its
-- revocation row says so (audit credly_state_changed, `by` pipeline). Never reported as
-- revoked by someone else (view badging.credly_external_change).
WITH target AS (
    SELECT i.issuance_id, i.certification_id, i.credly_state AS was, r.revoked_at
    FROM badging.issuance i
    JOIN badging.revocation r
      ON r.issuance_id = i.issuance_id AND r.credly_badge_id = i.credly_badge_id
     AND r.revocation_state = 'revoked'
    WHERE i.state = 'revoked'
      AND i.credly_state IS DISTINCT FROM 'revoked'
    FOR UPDATE OF i
),
revoked AS (
    UPDATE badging.issuance i
    SET credly_state = 'revoked', credly_state_at = now(),
        credly_state_changed_at = coalesce(t.revoked_at, now()), updated_at = now()
    FROM target t
    WHERE i.issuance_id = t.issuance_id
    RETURNING i.issuance_id, t.certification_id, t.was
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       certification_id, issuance_id, 'credly_state_changed',
       jsonb_build_object('from', coalesce(was, 'pending'), 'to', 'revoked', 'by', 'pipeline')
FROM revoked;
