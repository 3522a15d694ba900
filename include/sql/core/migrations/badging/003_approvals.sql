-- Gates an operator may be asked to decide in the UI (issue 21; badging/approval.py): the
-- volume gate now, a revocation gate later. One row per run and gate, the latest decision;
-- every decision is also appended to badging.audit_log.
CREATE TABLE IF NOT EXISTS badging.approval (
    run_id       text        NOT NULL,
    gate         text        NOT NULL,
    logical_date date        NOT NULL,
    -- The decision, named as its audit event (badging.constants.GATE_DECISIONS).
    event        text        NOT NULL CHECK (event IN (
                     'approval_not_needed', 'approved', 'rejected', 'approval_timed_out',
                     'accepted_by_param', 'refused_unattended')),
    -- The Airflow user who answered or triggered the run; NULL for a timeout or the scheduler.
    decided_by   text,
    decided_at   timestamptz NOT NULL,
    -- One line: what was judged and why (counts only).
    summary      text        NOT NULL,
    -- The counts the decision was taken on (no student data).
    detail       jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, gate)
);

-- Per gate: {event, decided_by, decided_at, summary}; written by the gate and the report.
ALTER TABLE badging.run_summary ADD COLUMN IF NOT EXISTS approvals jsonb NOT NULL DEFAULT '{}';
