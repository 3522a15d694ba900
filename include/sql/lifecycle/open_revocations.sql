-- The revocations and corrections the run's revoke task works through, in the order they
-- were planned; a correction names the live entry whose student it reads from CTIMS. The
-- ones an operator held before only with include_held (this run's gate approved them).
SELECT r.revocation_id, i.certification_id, r.action, r.certification_id,
       i.credly_template_id
FROM badging.revocation r
JOIN badging.issuance i USING (issuance_id)
WHERE r.run_id = %(run_id)s
  AND (r.revocation_state IN ('planned', 'in_flight')
       OR (r.revocation_state = 'held' AND %(include_held)s))
ORDER BY r.revocation_id;
