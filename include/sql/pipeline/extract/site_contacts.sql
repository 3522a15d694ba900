-- Each technology center's testing contact, for its morning list (docs/notifications.md).
-- Read with the rows, so the extract stays the one place that knows CTIMS.
SELECT btrim(site_code) AS site_code, nullif(lower(btrim(contact_email)), '') AS contact_email
FROM ctims.sites
