-- The run's acceptance figures (reports/correction.py, LedgerAcceptance.totals) on its summary row.
UPDATE badging.run_summary SET acceptance = %(acceptance)s WHERE run_id = %(run_id)s;
