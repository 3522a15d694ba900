-- Takes a chunk of the badges whose outcome may have changed (filled by the issuance
-- triggers of migration 014). A change committed after this takes the badge again.
DELETE FROM badging.outcome_dirty
WHERE issuance_id IN (SELECT issuance_id FROM badging.outcome_dirty
                      ORDER BY issuance_id LIMIT %(chunk)s)
RETURNING issuance_id;
