COPY row_expiry (certification_id, expires_at, known, expired) FROM STDIN
