-- The console's lookup: the ledger rows of a certification, whole, as JSON, with the
-- certification periods linked to them (the badge a renewal renews, the renewal of a badge):
-- the console picks the columns it shows, so a column added later (e.g. credly_state) shows
-- up without a change here. The certification's own badge comes first. The console never
-- shows student_id, earner_id or the digests.
WITH own AS (
    SELECT issuance_id, previous_issuance_id
    FROM badging.issuance
    WHERE certification_id = %(certification_id)s
       OR issuance_id = ANY(%(issuance_ids)s)
)
SELECT to_jsonb(i) AS badge
FROM badging.issuance i
WHERE i.issuance_id IN (SELECT issuance_id FROM own)
   OR i.issuance_id IN (SELECT previous_issuance_id FROM own)
   OR i.previous_issuance_id IN (SELECT issuance_id FROM own)
ORDER BY (i.certification_id = %(certification_id)s) DESC, i.period DESC, i.updated_at DESC;
