-- The sites that already have a list earlier this month (before `day`): the monthly section
-- goes on each site's first list of the month only.
SELECT DISTINCT site_code
FROM badging.site_list
WHERE day >= date_trunc('month', %(day)s::date)::date
  AND day < %(day)s;
