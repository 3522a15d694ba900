-- The Real-Time entries' identities as CTIMS holds them tonight (lifecycle/check/source_ids.sql);
-- gone at commit.
CREATE TEMPORARY TABLE IF NOT EXISTS source_now (
    certification_id bigint PRIMARY KEY,
    student_id       bigint,
    assessment_key   text,
    updated_at       timestamptz,
    deleted          boolean NOT NULL
) ON COMMIT DROP;
