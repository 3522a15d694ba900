-- Claimed and committed before the SMTP call: if this process dies mid-send the list stays
-- 'sending' and no run sends it again (docs/notifications.md, "A crash mid-send").
UPDATE badging.site_list
SET delivery = 'sending', attempts = attempts + 1, claimed_by = %(holder)s, claimed_at = now()
WHERE site_list_id = %(site_list_id)s
  AND delivery IN ('pending', 'failed') AND attempts < %(max_attempts)s
RETURNING site_code, recipient, subject, body
