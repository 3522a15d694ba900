COPY source_now (certification_id, student_id, assessment_key, updated_at, deleted) FROM STDIN
