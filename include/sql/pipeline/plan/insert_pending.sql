-- A pending ledger row (period 1) for every badge key the run found eligible; a key the
-- ledger already holds is left as it is (ON CONFLICT DO NOTHING): the ledger is what makes
-- re-runs, overlapping windows and backfills issue each badge once. A row whose badge would
-- already be expired (row_expiry, pipeline/expiry.py) starts no badge: the earliest row that
-- earns a live one does. The row records its entry's test date and its expiry as planned;
-- issue records what Credly says (docs/ledger.md).
-- earner_id is a keyed hash of the student id (never the raw id), sent to Credly as
-- issuer_earner_id; plan computes it in Python (ledger.earner_id) so that the key, which
-- lives in the credly_api connection, never reaches SQL text, parameters or server logs.
INSERT INTO badging.issuance (student_id, assessment_code, certification_id,
                              credly_template_id, earner_id, planned_run_id, entry_test_date,
                              expires_at)
SELECT DISTINCT ON (s.student_id, s.assessment_code)
       s.student_id,
       s.assessment_code,
       s.certification_id,
       t.credly_template_id,
       e.earner_id,
       s.run_id,
       s.test_date,
       x.expires_at
FROM badging.staged_certification s
JOIN badging.badge_templates t
  ON t.assessment_code = s.assessment_code AND t.active
JOIN plan_earner_ids e
  ON e.student_id = s.student_id
LEFT JOIN row_expiry x
  ON x.certification_id = s.certification_id
WHERE s.run_id = %(run_id)s
  AND s.decision IS NULL
  AND NOT coalesce(x.expired, false)
ORDER BY s.student_id, s.assessment_code, s.test_date, s.certification_id
ON CONFLICT (student_id, assessment_code, period) DO NOTHING;
