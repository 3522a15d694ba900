-- The identity of every Real-Time entry in the given buckets (NULL: all) as CTIMS holds it
-- now, for the check's diff (lifecycle/check/changed_students.sql): id, student, a digest of
-- the assessment code (normalised as the extract does; a digest, so bytes that are not UTF-8
-- travel safely), change time, deleted. COPY takes no parameters: psycopg binds them here.
COPY (
    SELECT certification_id, student_id, md5(upper(btrim(assessment_code))), updated_at,
           deleted_at IS NOT NULL
    FROM ctims.realtime_certifications
    WHERE %(buckets)s::integer[] IS NULL
       -- A hashed set: `= ANY(array)` would compare each row with every bucket in turn.
       OR certification_id %% 65536 IN (SELECT unnest(%(buckets)s::integer[]))
) TO STDOUT
