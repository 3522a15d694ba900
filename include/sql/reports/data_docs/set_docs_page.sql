-- Where the Data Docs page of one suite result of the run is (relative to the report root).
UPDATE badging.dq_result
SET docs_page = %(docs_page)s
WHERE run_id = %(run_id)s AND suite = %(suite)s;
