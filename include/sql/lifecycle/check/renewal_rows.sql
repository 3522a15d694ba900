-- The live rows that may renew an expired badge tonight (pipeline/plan/insert_renewals.sql
-- decides, once pipeline/expiry.py has computed their own badges' expiry): eligible, in the
-- latest certification period of their student and assessment, tested after its entry and
-- within the window before its expiry day, that badge expired by now. A re-test entered while
-- the earlier badge was still live is renewed here, the night after it expires.
SELECT s.certification_id, s.assessment_code, s.test_date
FROM badging.staged_certification s
JOIN badging.issuance cur
  ON cur.issuance_id = badging.entry_period(s.student_id, s.assessment_code, s.test_date)
WHERE s.run_id = %(live_run_id)s
  AND s.decision IS NULL
  AND s.reason IS NULL
  AND cur.expires_at <= %(now)s
  AND badging.renews(cur.issuance_id, s.test_date, %(window_days)s);
