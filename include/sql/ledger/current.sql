SELECT state, issued_run_id, claimed_by,
       claimed_at < now() - make_interval(secs => %(lease_seconds)s) AS lease_expired
FROM badging.issuance
WHERE issuance_id = %(issuance_id)s;
