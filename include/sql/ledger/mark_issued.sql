UPDATE badging.issuance
SET state           = 'issued',
    credly_badge_id = %(credly_badge_id)s,
    issued_run_id   = %(run_id)s,
    issued_at       = now(),
    last_error      = NULL,
    claimed_by      = NULL,
    claimed_at      = NULL,
    updated_at      = now()
WHERE issuance_id = %(issuance_id)s
  AND state = 'in_flight'
  AND claimed_by = %(holder)s;
