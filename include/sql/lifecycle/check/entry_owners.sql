-- The students the entries of these students' badges name now (source_now): a badge whose
-- own entry was reassigned to another student is judged with that entry staged, as the full
-- check judges it (entry_reassigned, not entry_removed).
SELECT DISTINCT n.student_id
FROM badging.issuance i
JOIN source_now n ON n.certification_id = i.certification_id
WHERE i.student_id = ANY(%(students)s) AND n.student_id IS NOT NULL;
