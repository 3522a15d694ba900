-- Badges unaccepted in Credly `days` days after issue, per site (view
-- badging.unaccepted_badge): certification ids, never a name or an address.
SELECT coalesce(site_code, '') AS site_code, certification_id, assessment_code,
       days_unaccepted
FROM badging.unaccepted_badge
WHERE days_unaccepted >= %(days)s
ORDER BY site_code, days_unaccepted DESC, certification_id;
