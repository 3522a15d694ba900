-- Issue 19: what the pipeline tells people (docs/notifications.md). 004 is another issue's.

-- CTIMS's site contacts as the last extract saw them, and the operators' switch.
CREATE TABLE IF NOT EXISTS badging.site_contact (
    site_code     text        PRIMARY KEY,
    -- NULL: CTIMS has no contact for the site; it gets no list.
    contact_email text,
    seen_at       timestamptz NOT NULL,
    -- Operators switch a site's lists off here; the extract never writes this column.
    lists_enabled boolean     NOT NULL DEFAULT true
);

-- One morning list per site and processed day, ever: claimed before it is sent and marked
-- after, as the ledger does for badges. Ids, reasons and a link only, no student data.
CREATE TABLE IF NOT EXISTS badging.site_list (
    site_list_id      bigserial   PRIMARY KEY,
    site_code         text        NOT NULL,
    day               date        NOT NULL,
    -- The run that wrote the list; any later run may retry its delivery.
    run_id            text        NOT NULL,
    recipient         text        NOT NULL,
    certification_ids bigint[]    NOT NULL,
    subject           text        NOT NULL,
    body              text        NOT NULL,
    delivery          text        NOT NULL DEFAULT 'pending'
        CHECK (delivery IN ('pending', 'sending', 'sent', 'failed')),
    attempts          integer     NOT NULL DEFAULT 0,
    -- The error's class and SMTP code, never its text (it can echo the address).
    last_error        text,
    claimed_by        text,
    claimed_at        timestamptz,
    sent_at           timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_code, day)
);
CREATE INDEX IF NOT EXISTS site_list_due_idx ON badging.site_list (delivery)
    WHERE delivery IN ('pending', 'failed');

-- Why a task of a run failed, one line, written by the tasks' failure callback: the
-- operators' alert names it (Airflow keeps exceptions in logs only).
CREATE TABLE IF NOT EXISTS badging.task_failure (
    run_id     text        NOT NULL,
    task_id    text        NOT NULL,
    map_index  integer     NOT NULL,
    try_number integer     NOT NULL,
    reason     text        NOT NULL,
    failed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, task_id, map_index, try_number)
);
