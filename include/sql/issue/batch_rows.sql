-- What one batch needs to issue its badges: recipient details from the run's staging,
-- template and earner id from the ledger.
SELECT s.certification_id,
       i.issuance_id,
       s.email,
       s.first_name,
       s.last_name,
       s.test_date,
       i.credly_template_id,
       i.earner_id
FROM badging.staged_certification s
JOIN badging.issuance i ON i.issuance_id = s.issuance_id
WHERE s.run_id = %(run_id)s
  AND s.batch_no = %(batch_no)s
  AND s.decision = 'planned'
ORDER BY i.issuance_id;
