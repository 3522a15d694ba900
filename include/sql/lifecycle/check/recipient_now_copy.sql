COPY recipient_now (issuance_id, certification_id, recipient_digest, name_digest, problem)
FROM STDIN
