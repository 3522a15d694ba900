-- The students the entries of these students' badges name now: a badge whose own entry was
-- reassigned to another student is judged with that entry staged, as the full check judges
-- it (entry_reassigned, not entry_removed). An entry of a changed bucket is as CTIMS holds it
-- tonight (source_now); any other is as the snapshot holds it, unchanged since. Each badge's
-- entry is looked up by id, not by reading the snapshot.
SELECT DISTINCT owner.student_id
FROM badging.issuance i
LEFT JOIN source_now n ON n.certification_id = i.certification_id
LEFT JOIN badging.check_snapshot s ON s.certification_id = i.certification_id
CROSS JOIN LATERAL (
    SELECT CASE WHEN i.certification_id %% 65536 = ANY(%(buckets)s) THEN n.student_id
                ELSE s.student_id END AS student_id
) AS owner
WHERE i.student_id = ANY(%(students)s) AND owner.student_id IS NOT NULL;
