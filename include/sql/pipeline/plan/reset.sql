-- Makes plan re-runnable: the decisions plan takes are taken again from scratch.
UPDATE badging.staged_certification
SET decision = NULL, reason = NULL, issuance_id = NULL
WHERE run_id = %(run_id)s
  AND (decision IN ('planned', 'would_issue', 'already_issued')
       OR reason IN ('duplicate_entry', 'previously_failed', 'expired_before_issue'));
