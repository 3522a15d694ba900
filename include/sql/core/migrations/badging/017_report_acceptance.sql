-- The report reads the whole ledger's acceptance once a night (docs/performance.md, "A night
-- at any age"): the badges revoked or deleted in Credly by someone else are a handful of
-- rows, read by this index instead of a scan of every badge.
CREATE INDEX IF NOT EXISTS issuance_external_change_idx ON badging.issuance (issuance_id)
    WHERE state = 'revoked' AND credly_state IN ('revoked', 'deleted');

-- The acceptance counts group the ledger by site, program and assessment in a hash table;
-- without these statistics the planner guesses a group per hundred badges and sorts them all.
CREATE STATISTICS IF NOT EXISTS badging.issuance_acceptance_groups (ndistinct)
    ON coalesce(site_code, ''), coalesce(program_code, ''), assessment_code
    FROM badging.issuance;
ANALYZE badging.issuance;
