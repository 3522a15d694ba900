-- Takes one revocation or correction for an attempt and commits it in_flight, with its
-- revoke_attempt audit row, BEFORE Credly is called: the issuing protocol's claim, through
-- the same lease (badging.take_lease; pipeline/issue/claim.sql, docs/exactly-once.md). Only while
-- the badge is still the issued one it was planned for.
-- Revoking is idempotent in Credly (an already revoked badge is success), so a crashed
-- attempt needs no lookup: the next claimer simply calls again.
WITH target AS (
    SELECT r.revocation_id, r.attempts + 1 AS attempt, r.revocation_state <> 'in_flight' AS free
    FROM badging.revocation r
    JOIN badging.issuance i
      ON i.issuance_id = r.issuance_id AND i.state = 'issued'
     AND i.credly_badge_id = r.credly_badge_id
    WHERE r.revocation_id = %(revocation_id)s
      AND r.revocation_state IN ('planned', 'held', 'in_flight')
    FOR UPDATE OF r
),
leased AS (
    SELECT t.* FROM target t
    WHERE badging.take_lease('revocation', t.revocation_id, %(holder)s, t.attempt, t.free,
                             %(lease_seconds)s)
),
claimed AS (
    UPDATE badging.revocation r
    SET revocation_state = 'in_flight', attempts = leased.attempt, updated_at = now()
    FROM leased
    WHERE r.revocation_id = leased.revocation_id
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
