-- The check's live rows were the last written to the staging table (after the run's own
-- extract): vacuumed at once, their pages go back to the system instead of staying for
-- every later statement that scans the table. A full check stages every live row; left,
-- the next night's stages read a staging table the size of the history (issue 30).
-- SKIP_LOCKED: never waits behind another vacuum (autovacuum's, or a concurrent run's check).
VACUUM (SKIP_LOCKED) badging.staged_certification;
