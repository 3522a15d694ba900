-- Claimed and committed before the SMTP call: if this process dies mid-send the list stays
-- 'sending' and no run sends it again (docs/notifications.md, "A crash mid-send"). A retry
-- goes to the site's contact as CTIMS has it now (a refused address may have been corrected).
UPDATE badging.site_list l
SET delivery = 'sending', attempts = l.attempts + 1, claimed_by = %(holder)s,
    claimed_at = now(),
    recipient = coalesce((SELECT c.contact_email FROM badging.site_contact c
                          WHERE c.site_code = l.site_code), l.recipient)
WHERE l.site_list_id = %(site_list_id)s
  AND l.delivery IN ('pending', 'failed') AND l.attempts < %(max_attempts)s
RETURNING l.site_code, l.recipient, l.subject, l.body
