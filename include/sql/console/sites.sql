-- The console's Sites page: per technology center, the newest run that staged its entries
-- (whose correction report has the site's section) and its open items: entries whose
-- latest staged decision is a quarantine or an ineligibility the site can fix, and badges
-- whose revocation is held or failed. Staging keeps STAGING_RETENTION_DAYS days
-- (docs/bounds.md), so older items are not counted.
WITH latest AS (
    SELECT DISTINCT ON (s.certification_id)
           s.certification_id, coalesce(s.site_code, '') AS site_code, s.decision, s.reason,
           s.run_id, s.staged_at
    FROM badging.staged_certification s
    JOIN badging.run_summary rs ON rs.run_id = s.run_id AND NOT rs.dry_run
    ORDER BY s.certification_id, s.staged_at DESC
),
per_site AS (
    SELECT site_code,
           count(*) FILTER (WHERE decision = %(quarantined)s) AS quarantined,
           count(*) FILTER (WHERE decision = %(ineligible)s
                              AND reason = ANY(%(fixable_reasons)s)) AS ineligible_to_fix,
           (array_agg(run_id ORDER BY staged_at DESC))[1] AS latest_run_id
    FROM latest
    GROUP BY site_code
),
open_revocations AS (
    SELECT coalesce(site_code, '') AS site_code, count(*) AS revocations_open
    FROM badging.revocation
    WHERE revocation_state = ANY(%(open_revocation_states)s)
    GROUP BY 1
)
SELECT coalesce(p.site_code, o.site_code) AS site_code,
       coalesce(p.quarantined, 0) AS quarantined,
       coalesce(p.ineligible_to_fix, 0) AS ineligible_to_fix,
       coalesce(o.revocations_open, 0) AS revocations_open,
       p.latest_run_id, rs.logical_date AS latest_day,
       rs.report_location IS NOT NULL AS has_report
FROM per_site p
FULL JOIN open_revocations o USING (site_code)
LEFT JOIN badging.run_summary rs ON rs.run_id = p.latest_run_id
ORDER BY coalesce(p.quarantined, 0) + coalesce(p.ineligible_to_fix, 0)
         + coalesce(o.revocations_open, 0) DESC, 1;
