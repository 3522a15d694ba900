SELECT batch_no, count(*) AS size
FROM badging.run_batch
WHERE run_id = %(run_id)s
GROUP BY batch_no
ORDER BY batch_no;
