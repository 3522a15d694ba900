-- Ends this holder's revocation or correction attempt, with its audit row, in one
-- statement: `revoked` (the ledger's badge too), `replaced` (the ledger row carries the new
-- badge; this row keeps the old id), `moved` (an unaccepted badge whose address was
-- corrected: a new badge went to the new address first, then the old one was revoked; the
-- ledger row carries the new badge, its entry and digests), `kept` (accepted before the
-- address was corrected: the new address becomes the baseline), `failed` for good,
-- `cancelled`, or back to `planned` for a retry. A claim taken over (lease passed) no longer
-- matches holder and attempt (badging.end_lease): nothing changes. The row is locked
-- before its lease is ended, in a claim's order (pipeline/issue/finish_attempt.sql).
WITH locked AS (
    SELECT revocation_id FROM badging.revocation
    WHERE revocation_id = %(revocation_id)s AND revocation_state = 'in_flight'
    FOR UPDATE
),
ended AS (
    SELECT revocation_id FROM locked
    WHERE badging.end_lease('revocation', %(revocation_id)s, %(holder)s, %(attempt)s)
),
finished AS (
    UPDATE badging.revocation r
    SET revocation_state = %(revocation_state)s,
        last_error     = %(error)s,
        replacement_badge_id = coalesce(%(replacement_badge_id)s, replacement_badge_id),
        revoked_run_id = CASE WHEN %(revocation_state)s IN ('revoked', 'moved')
                              THEN %(run_id)s END,
        revoked_at     = CASE WHEN %(revocation_state)s IN ('revoked', 'moved') THEN now() END,
        updated_at     = now()
    FROM ended
    WHERE r.revocation_id = ended.revocation_id
    RETURNING r.issuance_id, r.credly_badge_id, r.reason, r.certification_id,
              r.recipient_digest, r.name_digest, r.replacement_badge_id
),
badge AS (
    UPDATE badging.issuance i
    SET state = 'revoked', updated_at = now()
    FROM finished f
    WHERE %(revocation_state)s = 'revoked'
      AND i.issuance_id = f.issuance_id AND i.credly_badge_id = f.credly_badge_id
      AND i.state = 'issued'
),
replaced AS (
    UPDATE badging.issuance i
    SET credly_badge_id = %(replacement_badge_id)s, name_digest = f.name_digest,
        updated_at = now()
    FROM finished f
    WHERE %(revocation_state)s = 'replaced'
      AND i.issuance_id = f.issuance_id AND i.credly_badge_id = f.credly_badge_id
      AND i.state = 'issued'
),
moved AS (
    UPDATE badging.issuance i
    SET credly_badge_id = f.replacement_badge_id, certification_id = f.certification_id,
        entry_test_date = coalesce(%(entry_test_date)s, i.entry_test_date),
        recipient_digest = f.recipient_digest, name_digest = f.name_digest,
        issued_run_id = %(run_id)s, issued_at = now(), last_error = NULL, updated_at = now()
    FROM finished f
    WHERE %(revocation_state)s = 'moved'
      AND i.issuance_id = f.issuance_id AND i.credly_badge_id = f.credly_badge_id
      AND i.state = 'issued'
),
kept AS (
    UPDATE badging.issuance i
    SET recipient_digest = f.recipient_digest, updated_at = now()
    FROM finished f
    WHERE %(revocation_state)s = 'kept'
      AND i.issuance_id = f.issuance_id AND i.credly_badge_id = f.credly_badge_id
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       %(certification_id)s, issuance_id, %(event)s, coalesce(%(error)s, reason), %(detail)s
FROM finished;
