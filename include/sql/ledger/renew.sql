-- The fence before a Credly write: renews this attempt's claim if it still holds the row
-- (same holder, same attempt). No row back means the claim was taken over: do not call.
UPDATE badging.issuance
SET claimed_at = now()
WHERE issuance_id = %(issuance_id)s
  AND state = 'in_flight'
  AND claimed_by = %(holder)s
  AND attempts = %(attempt)s
RETURNING issuance_id;
