-- One site's badges still pending in Credly 30 days after issue, oldest first, with who
-- entered them: the instructor can nudge the student or fix the address in CTIMS.
SELECT b.certification_id, b.assessment_code, b.program_code, b.issued_at,
       floor(extract(epoch FROM %(now)s - b.issued_at) / 86400)::int AS days,
       b.entered_by
FROM badging.outcome_badge b
WHERE b.site_code = %(site_code)s
  AND b.credly_state = 'pending'
  AND b.issued_at < %(before_30)s
ORDER BY b.issued_at, b.certification_id
LIMIT %(limit)s;
