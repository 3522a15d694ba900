-- The identity of every Real-Time entry in the given buckets (NULL: all) as CTIMS holds it
-- now, for the check's diff (lifecycle/check/changed_students.sql): id, student, a digest of
-- the assessment code (normalised as the extract does; a digest, so bytes that are not UTF-8
-- travel safely), change time, deleted. COPY takes no parameters: psycopg binds them here, as
-- constants, so the planner keeps one of the two branches: every entry, or the buckets' by
-- the bucket index (ctims migration 006; a hashed set without it, never `= ANY(array)`, which
-- compares each row with every bucket in turn).
COPY (
    SELECT certification_id, student_id, md5(upper(btrim(assessment_code))), updated_at,
           deleted_at IS NOT NULL
    FROM (
        SELECT * FROM ctims.realtime_certifications WHERE %(buckets)s::integer[] IS NULL
        UNION ALL
        SELECT * FROM ctims.realtime_certifications
        WHERE certification_id %% 65536 IN (SELECT unnest(%(buckets)s::integer[]))
    ) AS entries
) TO STDOUT
