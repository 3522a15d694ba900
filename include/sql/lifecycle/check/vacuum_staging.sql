-- The check's live rows were the last written to the staging table (after the run's own
-- extract): vacuumed at once, their pages go back to the system instead of staying for
-- every later statement that scans the table. A full check stages every live row; left,
-- the next night's stages read a staging table the size of the history (issue 30).
VACUUM badging.staged_certification;
