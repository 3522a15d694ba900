-- Every bucket of Real-Time entries as CTIMS holds them now (migration 016): how many, and
-- the sum of each entry's 64-bit hash over the columns the diff compares, raw (source_ids.sql
-- normalises the code: a raw change it ignores only reads a bucket for nothing). Hashed by
-- type, not as text: a quarter of the cost, and the same whatever the session's time zone.
-- One sequential read; 65,536 rows back at most, at any size.
COPY (
    SELECT certification_id % 65536, count(*),
           sum(hash_record_extended(ROW(certification_id, student_id, assessment_code,
                                        updated_at, deleted_at IS NOT NULL), 0))
    FROM ctims.realtime_certifications
    GROUP BY 1
) TO STDOUT
