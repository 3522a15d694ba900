-- The console's lookup: the ledger rows of a certification, whole, as JSON: the console
-- picks the columns it shows, so a column added later (e.g. credly_state) shows up
-- without a change here. The console never shows student_id, earner_id or the digests.
SELECT to_jsonb(i) AS badge
FROM badging.issuance i
WHERE i.certification_id = %(certification_id)s
   OR i.issuance_id = ANY(%(issuance_ids)s)
ORDER BY i.updated_at DESC;
