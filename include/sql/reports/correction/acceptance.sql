-- Acceptance per site, program and assessment (the figures of view badging.acceptance,
-- migrations 008 and 013) and the median over all of them, for the run summary's totals and
-- the correction report's site sections (reports/correction.py, read_acceptance); codes and
-- counts only. Expired badges are counted apart (and left out of the rate).
-- One hashed pass over the ledger (migration 017's statistics tell the planner how few groups
-- there are): only the accepted badges' days are kept, and sorted, for the medians.
WITH counts AS MATERIALIZED (
    SELECT coalesce(site_code, '') AS site_code, coalesce(program_code, '') AS program_code,
           assessment_code,
           count(*) AS badges,
           count(*) FILTER (WHERE credly_state = 'accepted') AS accepted,
           count(*) FILTER (WHERE credly_state = 'pending') AS pending,
           count(*) FILTER (WHERE credly_state = 'rejected') AS rejected,
           count(*) FILTER (WHERE credly_state IN ('revoked', 'deleted')) AS gone,
           count(*) FILTER (WHERE credly_state = 'expired') AS expired,
           -- Days from the pipeline's issue to Credly's acceptance.
           array_agg((extract(epoch FROM credly_state_changed_at - issued_at) / 86400.0)::float8)
               FILTER (WHERE credly_state = 'accepted') AS days
    FROM badging.issuance
    WHERE credly_state IS NOT NULL AND issued_at IS NOT NULL
    GROUP BY 1, 2, 3
)
SELECT c.site_code, c.program_code, c.assessment_code, c.badges, c.accepted, c.pending,
       c.rejected, c.gone,
       round(c.accepted::numeric / nullif(c.badges - c.expired, 0), 4) AS acceptance_rate,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d) FROM unnest(c.days) AS d)
           AS median_days_to_accept,
       c.expired,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d)
        FROM counts, unnest(counts.days) AS d) AS ledger_median_days_to_accept
FROM counts c
ORDER BY c.site_code, c.program_code, c.assessment_code;
