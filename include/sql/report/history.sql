-- The trend the correction report charts: the latest real run of each day, up to this one.
SELECT logical_date, run_id, staged, issued, already_issued, quarantined, ineligible,
       ineligible_by_reason, dq_success, warned
FROM (
    SELECT *
    FROM badging.dq_history
    WHERE logical_date <= %(day)s
    ORDER BY logical_date DESC
    LIMIT %(runs)s
) recent
ORDER BY logical_date;
