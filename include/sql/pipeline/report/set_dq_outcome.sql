-- What upsert_summary.sql does not know: the data-quality reason and the report locations.
UPDATE badging.run_summary
SET dq_success = %(dq_success)s,
    dq_reason = %(dq_reason)s,
    report_location = %(report_location)s,
    data_docs_location = %(data_docs_location)s,
    updated_at = now()
WHERE run_id = %(run_id)s;
