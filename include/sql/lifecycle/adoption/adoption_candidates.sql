-- The run's batched badges a history load may adopt (pipeline/plan/take_open_rows.sql): pending ones
-- only. An in_flight row belongs to an issue try, which looks it up in Credly itself.
SELECT i.issuance_id, i.certification_id, i.credly_template_id, i.earner_id
FROM badging.run_batch b
JOIN badging.issuance i ON i.issuance_id = b.issuance_id
WHERE b.run_id = %(run_id)s
  AND i.state = 'pending'
ORDER BY i.issuance_id;
