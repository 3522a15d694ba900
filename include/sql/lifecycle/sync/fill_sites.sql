-- Where each badge was earned, for the per-site reports, from the latest staged copy of its
-- entry (staged rows are purged after 14 days; the ledger keeps the codes).
UPDATE badging.issuance i
SET site_code = s.site_code, program_code = s.program_code
FROM (SELECT DISTINCT ON (certification_id) certification_id, site_code, program_code
      FROM badging.staged_certification
      WHERE site_code IS NOT NULL
      ORDER BY certification_id, staged_at DESC) s
WHERE s.certification_id = i.certification_id
  AND i.site_code IS NULL
  AND i.credly_badge_id IS NOT NULL;
