-- Which of these badges' entries CTIMS holds again as they were when the badge was issued:
-- a live, undeleted row of the same student and assessment with the same test date. Read
-- by the revoke task right before it revokes (docs/lifecycle.md): such a badge is not
-- revoked, the next check decides it again. Normalised as pipeline/extract/realtime_rows.sql does.
SELECT DISTINCT k.student_id, k.assessment_code, k.test_date
FROM unnest(%(student_ids)s::bigint[], %(assessment_codes)s::text[], %(test_dates)s::date[])
         AS k (student_id, assessment_code, test_date)
JOIN ctims.realtime_certifications rc
  ON rc.student_id = k.student_id
 AND upper(btrim(rc.assessment_code)) = k.assessment_code
 AND rc.test_date = k.test_date
WHERE rc.deleted_at IS NULL;
