-- The students the entries of these students' badges name now: a badge whose own entry was
-- reassigned to another student is judged with that entry staged, as the full check judges
-- it (entry_reassigned, not entry_removed). An entry of a changed bucket is as CTIMS holds it
-- tonight (source_now); any other is as the snapshot holds it, unchanged since.
WITH entry_now AS (
    SELECT certification_id, student_id FROM source_now
    UNION ALL
    SELECT certification_id, student_id FROM badging.check_snapshot
    WHERE NOT certification_id %% 65536 = ANY(%(buckets)s)
)
SELECT DISTINCT e.student_id
FROM badging.issuance i
JOIN entry_now e ON e.certification_id = i.certification_id
WHERE i.student_id = ANY(%(students)s) AND e.student_id IS NOT NULL;
