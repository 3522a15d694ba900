-- A move's new badge, recorded the moment Credly answers and before the old badge is
-- revoked (docs/recipient-corrections.md): a later attempt finds it here and never posts a
-- second one. Fenced like a Credly write: nothing is recorded by a holder that lost its claim.
UPDATE badging.revocation
SET replacement_badge_id = %(replacement_badge_id)s, updated_at = now()
WHERE revocation_id = %(revocation_id)s
  AND revocation_state = 'in_flight'
  AND badging.renew_lease('revocation', %(revocation_id)s, %(holder)s, %(attempt)s)
RETURNING revocation_id;
