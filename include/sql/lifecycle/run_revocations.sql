-- The revocations this run decides (counts per site and reason for the gate's form).
SELECT coalesce(site_code, 'unknown'), reason, count(*)
FROM badging.revocation
WHERE run_id = %(run_id)s AND revocation_state IN ('planned', 'held', 'in_flight')
GROUP BY 1, 2
ORDER BY 1, 2;
