-- Writes what a sync read in Credly into the ledger, in one statement: every badge seen gets
-- its Credly state, its expiry as Credly has it (a badge issued before migration 013 learns
-- it here), and when it was seen; a change is audited (credly_state_changed, detail
-- from -> to). A badge revoked or deleted in Credly by someone else becomes `revoked` in the
-- ledger with no revocation row of the pipeline's: pipeline/plan/reopen_revoked.sql never re-issues it
-- and lifecycle/check/justification.sql no longer checks it; a revocation the pipeline had planned
-- for it is cancelled. Matched on the badge id and `issued`, so a badge another path changed
-- meanwhile (revoked, replaced, moved by the pipeline) is left alone.
WITH seen AS (
    SELECT * FROM unnest(%(badge_ids)s::text[], %(credly_states)s::text[],
                         %(changed_at)s::timestamptz[], %(expires_at)s::timestamptz[])
                  AS t(credly_badge_id, credly_state, changed_at, expires_at)
),
target AS (
    SELECT i.issuance_id, i.certification_id, i.credly_state AS was, s.credly_state,
           s.changed_at, s.expires_at
    FROM badging.issuance i
    JOIN seen s ON s.credly_badge_id = i.credly_badge_id
    WHERE i.state = 'issued'
      AND NOT EXISTS (SELECT 1 FROM badging.revocation r
                      WHERE r.issuance_id = i.issuance_id AND r.revocation_state = 'in_flight')
    FOR UPDATE OF i
),
synced AS (
    UPDATE badging.issuance i
    SET credly_state = t.credly_state,
        credly_state_at = %(seen_at)s,
        credly_state_changed_at = CASE
            WHEN t.was IS NOT DISTINCT FROM t.credly_state THEN i.credly_state_changed_at
            ELSE coalesce(t.changed_at, %(seen_at)s) END,
        state = CASE WHEN t.credly_state IN ('revoked', 'deleted') THEN 'revoked'
                     ELSE i.state END,
        expires_at = CASE WHEN t.credly_state = 'deleted' THEN i.expires_at
                          ELSE t.expires_at END,
        updated_at = now()
    FROM target t
    WHERE i.issuance_id = t.issuance_id
    RETURNING i.issuance_id, t.certification_id, t.was, t.credly_state
),
cancelled AS (
    UPDATE badging.revocation r
    SET revocation_state = 'cancelled', updated_at = now()
    FROM synced s
    WHERE r.issuance_id = s.issuance_id
      AND s.credly_state IN ('revoked', 'deleted')
      AND r.revocation_state IN ('planned', 'held')
    RETURNING r.issuance_id, s.certification_id, s.credly_state
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       certification_id, issuance_id, 'credly_state_changed', NULL,
       jsonb_build_object('from', coalesce(was, 'pending'), 'to', credly_state, 'by', 'credly')
FROM synced
WHERE coalesce(was, 'pending') <> credly_state
UNION ALL
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       certification_id, issuance_id, 'revoke_cancelled',
       CASE WHEN credly_state = 'revoked' THEN 'revoked_in_credly'
            ELSE 'deleted_in_credly' END AS reason,
       '{}'::jsonb
FROM cancelled;
