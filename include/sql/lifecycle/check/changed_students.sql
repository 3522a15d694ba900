-- The students whose Real-Time entries changed since the last nightly check's snapshot, in
-- the changed buckets (source_now holds their entries as CTIMS does tonight): an entry new,
-- changed (student, assessment, change time, deleted), vanished (hard-deleted) or back. Both
-- the old and the new student of a reassigned entry. What the change times alone would miss
-- (a hard delete, a replica that recovers rows with their old updated_at) is here.
WITH snapshot AS (
    -- The snapshot's entries of the changed buckets, by the bucket index: source_now holds
    -- only entries of these buckets, so no other snapshot entry can differ from it.
    SELECT certification_id, student_id, assessment_key, updated_at, deleted
    FROM badging.check_snapshot
    WHERE certification_id %% 65536 = ANY(%(buckets)s)
)
SELECT n.student_id
FROM source_now n
LEFT JOIN snapshot s USING (certification_id)
WHERE n.student_id IS NOT NULL
  AND (s.certification_id IS NULL
       OR (s.student_id, s.assessment_key, s.updated_at, s.deleted)
          IS DISTINCT FROM (n.student_id, n.assessment_key, n.updated_at, n.deleted))
UNION
SELECT s.student_id
FROM snapshot s
LEFT JOIN source_now n USING (certification_id)
WHERE s.student_id IS NOT NULL
  AND (n.certification_id IS NULL
       OR (s.student_id, s.assessment_key) IS DISTINCT FROM (n.student_id, n.assessment_key));
