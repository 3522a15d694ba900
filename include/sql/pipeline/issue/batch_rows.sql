-- The open badges one batch of the run takes, with what the ledger knows of them (template,
-- earner id, assessment: its validity); the recipient's details come from CTIMS
-- (core/recipients/recipients.sql).
SELECT i.certification_id,
       i.issuance_id,
       i.credly_template_id,
       i.earner_id,
       b.swept,
       i.assessment_code
FROM badging.run_batch b
JOIN badging.issuance i ON i.issuance_id = b.issuance_id
WHERE b.run_id = %(run_id)s
  AND b.batch_no = %(batch_no)s
ORDER BY i.issuance_id;
