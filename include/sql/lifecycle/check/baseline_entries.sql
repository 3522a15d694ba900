-- A badge issued before the ledger kept the test date it carries (migration 011) takes its
-- entry's current one as its baseline: from now on a moved test date is the entry's doing.
UPDATE badging.issuance i
SET entry_test_date = own.test_date, updated_at = now()
FROM badging.staged_certification own
WHERE own.run_id = %(live_run_id)s
  AND own.certification_id = i.certification_id
  AND own.student_id = i.student_id
  AND own.assessment_code = i.assessment_code
  AND own.deleted_at IS NULL
  AND i.state = 'issued'
  AND i.entry_test_date IS NULL;
