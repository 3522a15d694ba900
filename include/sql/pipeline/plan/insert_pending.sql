-- A pending ledger row for every badge key the run found eligible; a key the ledger
-- already holds is left as it is (ON CONFLICT DO NOTHING): the ledger is what makes
-- re-runs, overlapping windows and backfills issue each badge once.
-- earner_id is a keyed hash of the student id (never the raw id), sent to Credly as
-- issuer_earner_id; plan computes it in Python (ledger.earner_id) so that the key, which
-- lives in the credly_api connection, never reaches SQL text, parameters or server logs.
INSERT INTO badging.issuance (student_id, assessment_code, certification_id,
                              credly_template_id, earner_id, planned_run_id)
SELECT DISTINCT ON (s.student_id, s.assessment_code)
       s.student_id,
       s.assessment_code,
       s.certification_id,
       t.credly_template_id,
       e.earner_id,
       s.run_id
FROM badging.staged_certification s
JOIN badging.badge_templates t
  ON t.assessment_code = s.assessment_code AND t.active
JOIN plan_earner_ids e
  ON e.student_id = s.student_id
WHERE s.run_id = %(run_id)s
  AND s.decision IS NULL
ORDER BY s.student_id, s.assessment_code, s.test_date, s.certification_id
ON CONFLICT (student_id, assessment_code) DO NOTHING;
