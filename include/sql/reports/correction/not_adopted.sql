-- The badges Credly holds at a student's address that the run's adoption left for a person
-- (event not_adopted, docs/history-load.md), per site: certification ids, assessment codes
-- and reasons only, never a name, an address or a Credly id. The site is the run's staged
-- row's, or the ledger's for a badge swept in from another run (when known).
SELECT DISTINCT coalesce(s.site_code, i.site_code, '') AS site_code, a.certification_id,
       i.assessment_code, a.reason
FROM badging.audit_log a
JOIN badging.issuance i ON i.issuance_id = a.issuance_id
LEFT JOIN badging.staged_certification s
  ON s.run_id = a.run_id AND s.certification_id = a.certification_id
WHERE a.run_id = %(run_id)s
  AND a.event = 'not_adopted'
ORDER BY site_code, a.reason, a.certification_id;
