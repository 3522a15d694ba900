-- Whom each badge should name now, as digests, or why CTIMS names no usable recipient
-- (problem: email_blank, email_malformed, name_blank; digests NULL); gone at commit.
CREATE TEMPORARY TABLE IF NOT EXISTS recipient_now (
    issuance_id      bigint PRIMARY KEY,
    certification_id bigint NOT NULL,
    recipient_digest text,
    name_digest      text,
    problem          text
) ON COMMIT DROP;
