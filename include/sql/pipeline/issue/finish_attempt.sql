-- Ends this holder's attempt on an in_flight badge, with its audit row, in one statement:
-- `issued` with the Credly id, `failed` for good, or back to `pending` so a retry takes it
-- again (`lookup_first` set when the attempt may have reached Credly). A claim that was
-- taken over (lease expired) no longer matches holder and attempt (badging.end_lease):
-- nothing changes, nothing is audited, and the row count is 0.
--
-- The row is locked before the lease is ended, in the order a claim takes them (the badge,
-- then its lease): a lease ended in the UPDATE's own WHERE would be taken before the row's
-- lock, and a claim of another run holding the row while it waits for the lease deadlocks.
--
-- Committed without waiting for the WAL flush (it follows within wal_writer_delay): only the
-- claim must be durable before Credly is called. A finish lost to a database crash leaves
-- the row in_flight, and whoever takes it next looks it up in Credly before any POST.
WITH relaxed AS (
    SELECT set_config('synchronous_commit', 'off', true)
),
locked AS (
    SELECT issuance_id FROM badging.issuance
    WHERE issuance_id = %(issuance_id)s AND state = 'in_flight'
    FOR UPDATE
),
ended AS (
    SELECT issuance_id FROM locked
    WHERE badging.end_lease('issuance', %(issuance_id)s, %(holder)s, %(attempt)s)
),
finished AS (
    UPDATE badging.issuance i
    SET state           = %(state)s,
        credly_badge_id = coalesce(%(credly_badge_id)s, credly_badge_id),
        -- Whom the badge names, as keyed digests (migration 007), when the issuer knows.
        recipient_digest = coalesce(%(recipient_digest)s, recipient_digest),
        name_digest     = coalesce(%(name_digest)s, name_digest),
        -- The test date the badge carries (what a later check compares the entry with).
        entry_test_date = coalesce(%(entry_test_date)s, entry_test_date),
        -- Its expiry as Credly answered (NULL: never), for an issued badge.
        expires_at      = CASE WHEN %(state)s = 'issued' THEN %(expires_at)s
                               ELSE expires_at END,
        issued_run_id   = CASE WHEN %(state)s = 'issued' THEN %(issued_run_id)s
                               ELSE issued_run_id END,
        issued_at       = CASE WHEN %(state)s = 'issued' THEN now() ELSE issued_at END,
        last_error      = %(error)s,
        lookup_first    = %(lookup_first)s,
        updated_at      = now()
    FROM ended
    WHERE i.issuance_id = ended.issuance_id
    RETURNING i.issuance_id
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       %(certification_id)s, issuance_id, %(event)s, %(error)s, %(detail)s || %(swept_detail)s
FROM finished, relaxed;
