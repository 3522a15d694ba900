-- The Outcomes page (docs/outcomes.md): the summary's figures for the filter, totalled per
-- outcome and broken down by month, site, program, career cluster (the program's CIP family,
-- calendar.cluster) and assessment, in one pass over the summary rows the filter keeps (the
-- primary key leads with school year and site). Each filter is optional (NULL: all);
-- `sites` is the viewer's scope (NULL: every site).
-- Each program's cluster once (a few hundred rows), not once per summary row.
WITH programs AS MATERIALIZED (
    SELECT program_code,
           CASE WHEN cip_code ~ '^[0-9][0-9]' THEN left(cip_code, 2) ELSE '' END AS cluster
    FROM badging.ctims_program
),
kept AS (
    SELECT s.*, coalesce(p.cluster, '') AS cluster
    FROM badging.outcome_summary s
    LEFT JOIN programs p USING (program_code)
    WHERE (%(year)s::int IS NULL OR s.school_year = %(year)s)
      AND (%(month)s::date IS NULL OR s.issued_month = %(month)s)
      AND (%(sites)s::text[] IS NULL OR s.site_code = ANY(%(sites)s))
      AND (%(site)s::text IS NULL OR s.site_code = %(site)s)
      AND (%(program)s::text IS NULL OR s.program_code = %(program)s)
      AND (%(assessment)s::text IS NULL OR s.assessment_code = %(assessment)s)
      AND (%(outcome)s::text IS NULL OR s.credly_state = %(outcome)s)
)
SELECT CASE WHEN GROUPING(issued_month) = 0 THEN 'month'
            WHEN GROUPING(site_code) = 0 THEN 'site'
            WHEN GROUPING(program_code) = 0 THEN 'program'
            WHEN GROUPING(cluster) = 0 THEN 'cluster'
            WHEN GROUPING(assessment_code) = 0 THEN 'assessment'
            ELSE 'total' END AS dimension,
       coalesce(to_char(issued_month, 'YYYY-MM'), site_code, program_code, cluster,
                assessment_code) AS code,
       credly_state, sum(badges)::int AS badges,
       sum(d0)::int AS d0, sum(d1)::int AS d1, sum(d2)::int AS d2, sum(d3)::int AS d3,
       sum(d4)::int AS d4, sum(d5)::int AS d5, sum(d6)::int AS d6, sum(d7)::int AS d7,
       sum(d8_14)::int AS d8_14, sum(d15_30)::int AS d15_30, sum(d31_60)::int AS d31_60,
       sum(d61_90)::int AS d61_90, sum(d91_plus)::int AS d91_plus
FROM kept
WHERE (%(cluster)s::text IS NULL OR cluster = %(cluster)s)
GROUP BY GROUPING SETS ((credly_state), (issued_month, credly_state),
                        (site_code, credly_state), (program_code, credly_state),
                        (cluster, credly_state), (assessment_code, credly_state));
