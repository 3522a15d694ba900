-- Keeps every claim of one holder (one try of one issue or revoke task) alive while it
-- works: a row waiting out a long Retry-After is still held. A dead holder stops renewing,
-- and its rows are free once the lease has passed.
WITH revocations AS (
    UPDATE badging.revocation
    SET claimed_at = now()
    WHERE revocation_state = 'in_flight'
      AND claimed_by = %(holder)s
)
UPDATE badging.issuance
SET claimed_at = now()
WHERE state = 'in_flight'
  AND claimed_by = %(holder)s;
