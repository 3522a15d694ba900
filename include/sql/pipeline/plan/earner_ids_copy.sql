COPY plan_earner_ids (student_id, earner_id) FROM STDIN
