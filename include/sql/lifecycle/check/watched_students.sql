-- The students the check reads every night whatever changed: a badge of theirs has an open
-- finding (its streak counts nights), an open change (planned, held or in flight), expired
-- lately (a re-test entered while it was live renews it now: lifecycle/check/renewal_rows.sql),
-- or an operator named it tonight (revoke_reviewed). Each from its own small set, by index:
-- none reads the whole ledger.
SELECT i.student_id
FROM badging.badge_finding f
JOIN badging.issuance i USING (issuance_id)
UNION
SELECT i.student_id
FROM badging.revocation r
JOIN badging.issuance i USING (issuance_id)
WHERE r.revocation_state IN ('planned', 'held', 'in_flight')
UNION
SELECT student_id
FROM badging.issuance
WHERE state = 'issued' AND expires_at > %(expired_since)s AND expires_at <= %(now)s
UNION
SELECT student_id
FROM badging.issuance
WHERE cardinality(%(named)s::bigint[]) > 0 AND certification_id = ANY(%(named)s::bigint[]);
