-- The console's lookup: revocations, replacements and moves of the certification's badges.
SELECT r.revocation_id, r.issuance_id, r.credly_badge_id, r.action, r.reason,
       r.revocation_state, r.attempts, r.last_error, r.planned_run_id, r.run_id,
       r.revoked_run_id, r.revoked_at, r.replacement_badge_id, r.created_at, r.updated_at
FROM badging.revocation r
WHERE r.issuance_id = ANY(%(issuance_ids)s)
   OR r.certification_id = %(certification_id)s
ORDER BY r.created_at DESC;
