-- A badge issued before the ledger kept digests (migration 007), or moved and issued again,
-- takes the current ones as its baseline: the first check changes nothing in Credly.
UPDATE badging.issuance i
SET recipient_digest = coalesce(i.recipient_digest, n.recipient_digest),
    name_digest      = coalesce(i.name_digest, n.name_digest),
    updated_at       = now()
FROM recipient_now n
WHERE n.issuance_id = i.issuance_id
  AND (i.recipient_digest IS NULL OR i.name_digest IS NULL);
