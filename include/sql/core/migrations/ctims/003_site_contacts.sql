-- Issue 19: each technology center's testing contact, who gets the site's morning list of
-- entries to fix (docs/notifications.md). Only include/sql/extract/ reads it.
ALTER TABLE ctims.sites ADD COLUMN IF NOT EXISTS contact_email text;
