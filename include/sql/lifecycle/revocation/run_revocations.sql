-- The revocations this run decides (counts per site and reason for the gate's form), and how
-- many of them an operator held before (rejected or unanswered): the gate asks for those
-- whatever the threshold.
SELECT coalesce(site_code, 'unknown'), reason, count(*),
       count(*) FILTER (WHERE revocation_state = 'held')
FROM badging.revocation
WHERE run_id = %(run_id)s AND revocation_state IN ('planned', 'held', 'in_flight')
GROUP BY 1, 2
ORDER BY 1, 2;
