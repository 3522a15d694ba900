-- Badges revoked or deleted in Credly by someone else (view badging.credly_external_change):
-- a person decides what becomes of them; certification ids only.
SELECT coalesce(site_code, '') AS site_code, certification_id, assessment_code, credly_state
FROM badging.credly_external_change
ORDER BY site_code, certification_id;
