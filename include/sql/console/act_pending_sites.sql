-- Who must act, per site (docs/outcomes.md): badges still pending in Credly 30, 60 and 90
-- days after issue (the summary's copy of the ledger, as of the last report), within the
-- viewer's sites (NULL: all).
SELECT site_code,
       count(*) FILTER (WHERE issued_at >= %(before_60)s) AS after_30,
       count(*) FILTER (WHERE issued_at < %(before_60)s AND issued_at >= %(before_90)s)
           AS after_60,
       count(*) FILTER (WHERE issued_at < %(before_90)s) AS after_90
FROM badging.outcome_badge
WHERE credly_state = 'pending'
  AND issued_at < %(before_30)s
  AND (%(sites)s::text[] IS NULL OR site_code = ANY(%(sites)s))
GROUP BY site_code;
