-- The students the check reads every night whatever changed: a badge of theirs has an open
-- finding (its streak counts nights), an open change (planned, held or in flight), or an
-- operator named it tonight (revoke_reviewed).
SELECT DISTINCT i.student_id
FROM badging.issuance i
WHERE EXISTS (SELECT 1 FROM badging.badge_finding f WHERE f.issuance_id = i.issuance_id)
   OR EXISTS (SELECT 1 FROM badging.revocation r
              WHERE r.issuance_id = i.issuance_id
                AND r.revocation_state IN ('planned', 'held', 'in_flight'))
   OR i.certification_id = ANY(%(named)s);
