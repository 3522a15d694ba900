-- The touched keys' figures, counted from the badges (outcome_badge): per outcome, the
-- badges and the histogram of days to accept in calendar.ACCEPT_BINS's bins (a unit test
-- holds these FILTERs to that table).
INSERT INTO badging.outcome_summary (school_year, issued_month, site_code, program_code,
                                     assessment_code, credly_state, badges, d0, d1, d2, d3,
                                     d4, d5, d6, d7, d8_14, d15_30, d31_60, d61_90, d91_plus)
SELECT b.school_year, b.issued_month, b.site_code, b.program_code, b.assessment_code,
       b.credly_state, count(*),
       count(*) FILTER (WHERE b.accept_days BETWEEN 0 AND 0) AS d0,
       count(*) FILTER (WHERE b.accept_days BETWEEN 1 AND 1) AS d1,
       count(*) FILTER (WHERE b.accept_days BETWEEN 2 AND 2) AS d2,
       count(*) FILTER (WHERE b.accept_days BETWEEN 3 AND 3) AS d3,
       count(*) FILTER (WHERE b.accept_days BETWEEN 4 AND 4) AS d4,
       count(*) FILTER (WHERE b.accept_days BETWEEN 5 AND 5) AS d5,
       count(*) FILTER (WHERE b.accept_days BETWEEN 6 AND 6) AS d6,
       count(*) FILTER (WHERE b.accept_days BETWEEN 7 AND 7) AS d7,
       count(*) FILTER (WHERE b.accept_days BETWEEN 8 AND 14) AS d8_14,
       count(*) FILTER (WHERE b.accept_days BETWEEN 15 AND 30) AS d15_30,
       count(*) FILTER (WHERE b.accept_days BETWEEN 31 AND 60) AS d31_60,
       count(*) FILTER (WHERE b.accept_days BETWEEN 61 AND 90) AS d61_90,
       count(*) FILTER (WHERE b.accept_days >= 91) AS d91_plus
FROM badging.outcome_badge b
JOIN (SELECT DISTINCT * FROM outcome_touched) t
  USING (school_year, site_code, issued_month, program_code, assessment_code)
GROUP BY b.school_year, b.issued_month, b.site_code, b.program_code, b.assessment_code,
         b.credly_state;
