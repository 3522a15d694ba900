-- One badge's state, and who holds its claim (if anyone) and whether that lease has passed.
SELECT i.state, i.issued_run_id, l.holder,
       coalesce(l.claimed_at < now() - make_interval(secs => %(lease_seconds)s), true)
           AS lease_expired
FROM badging.issuance i
LEFT JOIN badging.lease l ON l.subject = 'issuance' AND l.subject_id = i.issuance_id
WHERE i.issuance_id = %(issuance_id)s;
