-- The snapshot becomes tonight's table in the buckets read tonight (NULL: all of them; the
-- others did not change): the next nightly check diffs against it. Only what changed is
-- written (a hard-deleted entry goes, a new or changed one is upserted).
WITH gone AS (
    DELETE FROM badging.check_snapshot s
    WHERE (%(buckets)s::integer[] IS NULL OR s.certification_id %% 65536 = ANY(%(buckets)s))
      AND NOT EXISTS (SELECT 1 FROM source_now n WHERE n.certification_id = s.certification_id)
)
INSERT INTO badging.check_snapshot (certification_id, student_id, assessment_key, updated_at,
                                    deleted)
SELECT n.certification_id, n.student_id, n.assessment_key, n.updated_at, n.deleted
FROM source_now n
LEFT JOIN badging.check_snapshot s USING (certification_id)
WHERE s.certification_id IS NULL
   OR (s.student_id, s.assessment_key, s.updated_at, s.deleted)
      IS DISTINCT FROM (n.student_id, n.assessment_key, n.updated_at, n.deleted)
ON CONFLICT (certification_id) DO UPDATE SET
    student_id = EXCLUDED.student_id, assessment_key = EXCLUDED.assessment_key,
    updated_at = EXCLUDED.updated_at, deleted = EXCLUDED.deleted;
