-- CTIMS's contact replaces the last one seen; the operators' lists_enabled switch stays.
INSERT INTO badging.site_contact (site_code, contact_email, seen_at)
VALUES (%(site_code)s, %(contact_email)s, now())
ON CONFLICT (site_code) DO UPDATE
SET contact_email = EXCLUDED.contact_email, seen_at = EXCLUDED.seen_at
