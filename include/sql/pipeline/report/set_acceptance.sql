-- The run's acceptance figures (pipeline/report/acceptance_totals.sql) on its summary row.
UPDATE badging.run_summary SET acceptance = %(acceptance)s WHERE run_id = %(run_id)s;
