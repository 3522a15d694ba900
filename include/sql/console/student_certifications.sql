-- The console's lookup by student: the certifications the ledger or staging knows for the
-- student, newest first. The student id is a bound parameter and never leaves this query.
SELECT certification_id, max(seen_at) AS seen_at
FROM (
    SELECT certification_id, updated_at AS seen_at
    FROM badging.issuance WHERE student_id = %(student_id)s
    UNION ALL
    SELECT certification_id, staged_at
    FROM badging.staged_certification WHERE student_id = %(student_id)s
) known
GROUP BY certification_id
ORDER BY seen_at DESC
LIMIT %(limit)s;
