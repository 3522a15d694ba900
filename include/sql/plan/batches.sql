SELECT batch_no, count(*) AS size
FROM badging.staged_certification
WHERE run_id = %(run_id)s AND decision = 'planned'
GROUP BY batch_no
ORDER BY batch_no;
