SELECT coalesce(reason, 'eligible') AS outcome, count(*)
FROM badging.staged_certification
WHERE run_id = %(run_id)s AND (decision IS NULL OR decision NOT IN ('quarantined', 'held'))
GROUP BY 1 ORDER BY 1;
