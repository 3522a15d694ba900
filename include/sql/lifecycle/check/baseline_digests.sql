-- A badge issued before the ledger kept digests (migration 007), or adopted, takes the
-- current ones as its baseline: the first check changes nothing in Credly. Only a usable
-- recipient is a baseline (lifecycle/recipients.py).
UPDATE badging.issuance i
SET recipient_digest = coalesce(i.recipient_digest, n.recipient_digest),
    name_digest      = coalesce(i.name_digest, n.name_digest),
    updated_at       = now()
FROM recipient_now n
WHERE n.issuance_id = i.issuance_id
  AND n.problem IS NULL
  AND i.state = 'issued'
  AND (i.recipient_digest IS NULL OR i.name_digest IS NULL);
