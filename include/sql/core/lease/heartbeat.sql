-- Keeps every claim of one holder (one try of one issue or revoke task) alive while it
-- works: a row waiting out a long Retry-After is still held. A dead holder stops renewing,
-- and its claims are free once the lease has passed.
UPDATE badging.lease
SET claimed_at = now()
WHERE holder = %(holder)s;
