-- The revocations the run's revoke task works through, in the order they were planned.
SELECT r.revocation_id, r.issuance_id, i.certification_id, r.reason
FROM badging.revocation r
JOIN badging.issuance i USING (issuance_id)
WHERE r.run_id = %(run_id)s AND r.revocation_state IN ('planned', 'held', 'in_flight')
ORDER BY r.revocation_id;
