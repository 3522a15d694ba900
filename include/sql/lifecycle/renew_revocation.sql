-- The fence before the Credly call: renews this attempt's claim if it still holds it.
UPDATE badging.revocation
SET claimed_at = now()
WHERE revocation_id = %(revocation_id)s
  AND revocation_state = 'in_flight'
  AND claimed_by = %(holder)s
  AND attempts = %(attempt)s
RETURNING revocation_id;
