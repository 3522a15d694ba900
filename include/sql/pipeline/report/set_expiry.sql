-- The run's badges by expiry (pipeline/report/expiry_counts.sql) on its summary row.
UPDATE badging.run_summary SET expiry = %(expiry)s WHERE run_id = %(run_id)s;
