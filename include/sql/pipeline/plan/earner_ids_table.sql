-- Earner ids computed by plan for this transaction's inserts; gone at commit.
CREATE TEMPORARY TABLE IF NOT EXISTS plan_earner_ids (
    student_id bigint PRIMARY KEY,
    earner_id  text   NOT NULL
) ON COMMIT DROP;
