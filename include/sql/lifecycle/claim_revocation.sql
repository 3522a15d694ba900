-- Takes one revocation for an attempt and commits it in_flight, with its revoke_attempt
-- audit row, BEFORE Credly is called: the issuing protocol's claim (ledger/claim.sql,
-- docs/exactly-once.md). Only while the badge is still the issued one it was planned for.
-- Revoking is idempotent in Credly (an already revoked badge is success), so a crashed
-- attempt needs no lookup: the next claimer simply calls again.
WITH target AS (
    SELECT r.revocation_id
    FROM badging.revocation r
    JOIN badging.issuance i
      ON i.issuance_id = r.issuance_id AND i.state = 'issued'
     AND i.credly_badge_id = r.credly_badge_id
    WHERE r.revocation_id = %(revocation_id)s
      AND (r.revocation_state IN ('planned', 'held')
           OR (r.revocation_state = 'in_flight'
               AND (r.claimed_by = %(holder)s
                    OR r.claimed_at < now() - make_interval(secs => %(lease_seconds)s))))
    FOR UPDATE OF r
),
claimed AS (
    UPDATE badging.revocation r
    SET revocation_state = 'in_flight', attempts = r.attempts + 1, claimed_by = %(holder)s,
        claimed_at = now(), updated_at = now()
    FROM target
    WHERE r.revocation_id = target.revocation_id
    RETURNING r.attempts, r.credly_badge_id, r.issuance_id, r.reason
),
audited AS (
    INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                                   certification_id, issuance_id, event, reason, detail)
    SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
           %(certification_id)s, issuance_id, 'revoke_attempt', reason,
           jsonb_build_object('attempt', attempts)
    FROM claimed
)
SELECT attempts, credly_badge_id FROM claimed;
