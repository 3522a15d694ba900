-- Cuts the run's badges (pipeline/plan/take_open_rows.sql) into batches of %(batch_size)s, in
-- ledger order.
UPDATE badging.run_batch b
SET batch_no = numbered.batch_no
FROM (
    SELECT issuance_id,
           ((row_number() OVER (ORDER BY issuance_id)) - 1) / %(batch_size)s AS batch_no
    FROM badging.run_batch
    WHERE run_id = %(run_id)s
) AS numbered
WHERE b.run_id = %(run_id)s
  AND b.issuance_id = numbered.issuance_id;
