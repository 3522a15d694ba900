-- Cuts the run's planned rows into batches of %(batch_size)s, in ledger order.
UPDATE badging.staged_certification s
SET batch_no = numbered.batch_no
FROM (
    SELECT certification_id,
           ((row_number() OVER (ORDER BY issuance_id)) - 1) / %(batch_size)s AS batch_no
    FROM badging.staged_certification
    WHERE run_id = %(run_id)s AND decision = 'planned'
) AS numbered
WHERE s.run_id = %(run_id)s
  AND s.certification_id = numbered.certification_id;
