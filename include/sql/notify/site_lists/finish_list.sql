-- The SMTP call's outcome, only for the claim this task holds.
UPDATE badging.site_list
SET delivery = %(delivery)s,
    sent_at = CASE WHEN %(delivery)s = 'sent' THEN now() END,
    last_error = %(error)s
WHERE site_list_id = %(site_list_id)s AND delivery = 'sending' AND claimed_by = %(holder)s
