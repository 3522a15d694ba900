-- A gate's decision on a run: the latest per run and gate (a cleared run decides again).
INSERT INTO badging.approval (run_id, gate, logical_date, event, decided_by, decided_at,
                              summary, detail)
VALUES (%(run_id)s, %(gate)s, %(logical_date)s, %(event)s, %(decided_by)s, %(decided_at)s,
        %(summary)s, %(detail)s)
ON CONFLICT (run_id, gate) DO UPDATE SET
    event = EXCLUDED.event, decided_by = EXCLUDED.decided_by,
    decided_at = EXCLUDED.decided_at, summary = EXCLUDED.summary, detail = EXCLUDED.detail,
    logical_date = EXCLUDED.logical_date;
