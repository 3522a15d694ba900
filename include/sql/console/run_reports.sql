-- Where one run's reports are: the console serves them by run id, never by a path a
-- client names (docs/console.md).
SELECT report_location, data_docs_location
FROM badging.run_summary
WHERE run_id = %(run_id)s;
