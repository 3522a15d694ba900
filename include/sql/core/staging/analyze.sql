-- Fresh planner statistics for the run's staged rows: after extract loads them and after
-- a stage rewrites their decisions. Without them a day of 200,000 rows is planned on the
-- statistics of a smaller (or just truncated) table, or of the decisions before the
-- UPDATE, and the self-joins and audit anti-joins that follow pick nested loops that are
-- quadratic in the day (minutes instead of seconds).
ANALYZE badging.staged_certification;
