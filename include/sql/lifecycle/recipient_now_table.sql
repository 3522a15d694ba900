-- The digests of whom each justified badge should name now; gone at commit.
CREATE TEMPORARY TABLE IF NOT EXISTS recipient_now (
    issuance_id      bigint PRIMARY KEY,
    certification_id bigint NOT NULL,
    recipient_digest text   NOT NULL,
    name_digest      text   NOT NULL
) ON COMMIT DROP;
