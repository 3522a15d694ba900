-- Hands an in_flight badge back as pending after an attempt that certainly did not
-- issue it (or whose outcome a later lookup will settle), so a retry takes it again.
UPDATE badging.issuance
SET state      = 'pending',
    last_error = %(error)s,
    claimed_by = NULL,
    claimed_at = NULL,
    updated_at = now()
WHERE issuance_id = %(issuance_id)s
  AND state = 'in_flight'
  AND claimed_by = %(holder)s;
