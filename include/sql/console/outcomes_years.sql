-- The school years the summary has figures for, newest first: a skip scan of the primary
-- key's first column (one index probe per year, whatever the summary's size).
WITH RECURSIVE years AS (
    SELECT max(school_year) AS year FROM badging.outcome_summary
    UNION ALL
    SELECT (SELECT max(school_year) FROM badging.outcome_summary WHERE school_year < years.year)
    FROM years
    WHERE years.year IS NOT NULL
)
SELECT year FROM years WHERE year IS NOT NULL;
