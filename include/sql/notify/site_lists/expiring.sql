-- The badges each site's monthly section lists (docs/notifications.md): issued, live in
-- Credly, expiring within `days` days of now, not renewed already (a later period); by the
-- site where each was earned (issuance.site_code, filled by the sync). Ids and codes only.
SELECT i.site_code, i.certification_id, i.assessment_code, i.program_code,
       (i.expires_at AT TIME ZONE 'America/Chicago')::date AS expires_on
FROM badging.issuance i
WHERE i.state = 'issued'
  AND i.expires_at > %(now)s
  AND i.expires_at <= %(now)s + make_interval(days => %(days)s)
  AND (i.credly_state IS NULL OR i.credly_state IN ('pending', 'accepted'))
  AND i.site_code IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM badging.issuance later
                  WHERE later.student_id = i.student_id
                    AND later.assessment_code = i.assessment_code
                    AND later.period > i.period)
ORDER BY i.site_code, expires_on, i.certification_id;
