-- Makes validate re-runnable: the run's results and row warnings are decided afresh.
DELETE FROM badging.dq_result WHERE run_id = %(run_id)s;
