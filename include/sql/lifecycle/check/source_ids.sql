-- Every Real-Time entry's identity as CTIMS holds it now, for the incremental check's diff
-- (lifecycle/check/changed_students.sql): id, student, a digest of the assessment code
-- (normalised as the extract does; a digest, so bytes that are not UTF-8 travel safely),
-- change time, deleted. One sequential read of the table, like the census's.
COPY (
    SELECT certification_id, student_id, md5(upper(btrim(assessment_code))), updated_at,
           deleted_at IS NOT NULL
    FROM ctims.realtime_certifications
) TO STDOUT
