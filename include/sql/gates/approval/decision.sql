-- The latest decision of one gate on one run (no row: the gate has not decided).
SELECT event FROM badging.approval WHERE run_id = %(run_id)s AND gate = %(gate)s;
