-- The run's eligible rows, whose badges' expiry plan decides by (pipeline/expiry.py computes
-- it into row_expiry): a badge already expired is not issued, a renewal waits for the
-- earlier badge's expiry.
SELECT certification_id, assessment_code, test_date
FROM badging.staged_certification
WHERE run_id = %(run_id)s
  AND decision IS NULL
  AND test_date IS NOT NULL;
