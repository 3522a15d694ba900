-- The students of the run's eligible rows that have no ledger row yet for that assessment:
-- plan computes their earner ids (in Python, where the secret lives) before inserting.
SELECT DISTINCT s.student_id
FROM badging.staged_certification s
JOIN badging.badge_templates t
  ON t.assessment_code = s.assessment_code AND t.active
WHERE s.run_id = %(run_id)s
  AND s.decision IS NULL
  AND NOT EXISTS (SELECT 1 FROM badging.issuance i
                  WHERE i.student_id = s.student_id
                    AND i.assessment_code = s.assessment_code);
