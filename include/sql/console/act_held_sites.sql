-- Entries held by an operator's decision, per site, within the viewer's sites (NULL: all).
SELECT coalesce(site_code, '') AS site_code, count(*) AS held
FROM badging.outcome_held
WHERE %(sites)s::text[] IS NULL OR site_code = ANY(%(sites)s)
GROUP BY 1;
