-- The students the check reads every night whatever changed: a badge of theirs has an open
-- finding (its streak counts nights), an open change (planned, held or in flight), expired
-- lately (a re-test entered while it was live renews it now: lifecycle/check/renewal_rows.sql),
-- or an operator named it tonight (revoke_reviewed).
SELECT DISTINCT i.student_id
FROM badging.issuance i
WHERE EXISTS (SELECT 1 FROM badging.badge_finding f WHERE f.issuance_id = i.issuance_id)
   OR EXISTS (SELECT 1 FROM badging.revocation r
              WHERE r.issuance_id = i.issuance_id
                AND r.revocation_state IN ('planned', 'held', 'in_flight'))
   OR i.state = 'issued' AND i.expires_at > %(expired_since)s AND i.expires_at <= %(now)s
   OR i.certification_id = ANY(%(named)s);
