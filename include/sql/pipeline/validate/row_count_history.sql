-- The trailing row counts the table-level band is measured against: the latest real run
-- of each of the trailing days before this one.
SELECT count(*) AS runs, coalesce(avg(staged), 0)::double precision AS average
FROM (
    SELECT staged
    FROM badging.dq_history
    WHERE logical_date < %(day)s::date
      AND logical_date >= %(day)s::date - %(days)s::integer
) recent;
