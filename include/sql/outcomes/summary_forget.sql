-- The touched keys' figures go; outcomes/summary_count.sql counts them again.
DELETE FROM badging.outcome_summary s
USING (SELECT DISTINCT * FROM outcome_touched) t
WHERE s.school_year = t.school_year AND s.site_code = t.site_code
  AND s.issued_month = t.issued_month AND s.program_code = t.program_code
  AND s.assessment_code = t.assessment_code;
