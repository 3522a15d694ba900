-- The contact and switch of the sites that have entries to fix (copied by the extract).
SELECT site_code, contact_email, lists_enabled
FROM badging.site_contact
WHERE site_code = ANY(%(site_codes)s)
