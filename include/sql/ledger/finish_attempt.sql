-- Ends this holder's attempt on an in_flight badge: `issued` with the Credly id, `failed`
-- for good, or back to `pending` so a retry takes it again. A claim that was taken over
-- (lease expired) no longer matches, and nothing changes.
UPDATE badging.issuance
SET state           = %(state)s,
    credly_badge_id = coalesce(%(credly_badge_id)s, credly_badge_id),
    issued_run_id   = CASE WHEN %(state)s = 'issued' THEN %(issued_run_id)s ELSE issued_run_id END,
    issued_at       = CASE WHEN %(state)s = 'issued' THEN now() ELSE issued_at END,
    last_error      = %(error)s,
    claimed_by      = NULL,
    claimed_at      = NULL,
    updated_at      = now()
WHERE issuance_id = %(issuance_id)s
  AND state = 'in_flight'
  AND claimed_by = %(holder)s;
