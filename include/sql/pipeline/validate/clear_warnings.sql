DELETE FROM badging.dq_row_warning WHERE run_id = %(run_id)s;
