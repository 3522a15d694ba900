-- Issue 30 (docs/performance.md, "A night at any age"). The report reads the whole ledger's
-- acceptance once a night: the badges revoked or deleted in Credly by someone else are a
-- handful of rows, read by this index instead of a scan of every badge.
CREATE INDEX IF NOT EXISTS issuance_external_change_idx ON badging.issuance (issuance_id)
    WHERE state = 'revoked' AND credly_state IN ('revoked', 'deleted');

-- Ledger rows by the entry they stand for: the sync fills the site of each badge that lacks
-- one from the last fortnight's staging (lifecycle/sync/fill_sites.sql), a few hundred
-- lookups, where it scanned every badge (and a ledger's oldest badges never have a site).
CREATE INDEX IF NOT EXISTS issuance_certification_idx ON badging.issuance (certification_id);

-- The acceptance counts group the ledger by site, program and assessment in a hash table;
-- without these statistics the planner guesses a group per hundred badges and sorts them all.
CREATE STATISTICS IF NOT EXISTS badging.issuance_acceptance_groups (ndistinct)
    ON coalesce(site_code, ''), coalesce(program_code, ''), assessment_code
    FROM badging.issuance;
ANALYZE badging.issuance;
