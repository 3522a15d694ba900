UPDATE badging.issuance
SET state      = 'failed',
    last_error = %(error)s,
    claimed_by = NULL,
    claimed_at = NULL,
    updated_at = now()
WHERE issuance_id = %(issuance_id)s
  AND state = 'in_flight'
  AND claimed_by = %(holder)s;
