-- The console's lookup (docs/console.md): every run that still holds the certification in
-- staging, newest first. Staged rows are purged after STAGING_RETENTION_DAYS (docs/bounds.md);
-- the audit log keeps the decisions. Read-only.
SELECT s.run_id, rs.logical_date, s.staged_at, s.decision, s.reason, s.student_id,
       s.assessment_code, s.site_code, s.program_code, s.test_date, s.deleted_at,
       s.first_name, s.last_name, s.email, s.issuance_id, q.expectations
FROM badging.staged_certification s
LEFT JOIN badging.run_summary rs USING (run_id)
LEFT JOIN badging.quarantine q
  ON q.run_id = s.run_id AND q.certification_id = s.certification_id
WHERE s.certification_id = %(certification_id)s
ORDER BY s.staged_at DESC, s.run_id DESC;
