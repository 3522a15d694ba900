-- The revocations and corrections the run's revoke task works through, in the order they
-- were planned, with what each re-reads in CTIMS right before it touches Credly: a
-- correction the live entry whose student it names and the digests it was planned for; a
-- revocation the badge's key and the test date it carries (docs/lifecycle.md). A move's
-- new badge, when an earlier attempt recorded it. The ones an operator held before only
-- with include_held (this run's gate approved them: docs/gates.md).
SELECT r.revocation_id, i.certification_id, r.action, r.certification_id,
       i.credly_template_id, i.earner_id, i.student_id, i.assessment_code, i.entry_test_date,
       r.requested_by, r.recipient_digest || ':' || r.name_digest, r.replacement_badge_id
FROM badging.revocation r
JOIN badging.issuance i USING (issuance_id)
WHERE r.run_id = %(run_id)s
  AND (r.revocation_state IN ('planned', 'in_flight')
       OR (r.revocation_state = 'held' AND %(include_held)s))
ORDER BY r.revocation_id;
