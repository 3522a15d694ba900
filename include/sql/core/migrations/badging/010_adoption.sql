-- Badges Credly already held when the pipeline planned them (issue 17; docs/history-load.md):
-- a history load adopts them instead of issuing them again. adopted_at marks such a row (its
-- state is `issued`, like any live badge); NULL: the pipeline issued it.
ALTER TABLE badging.issuance ADD COLUMN IF NOT EXISTS adopted_at timestamptz;
ALTER TABLE badging.run_summary ADD COLUMN IF NOT EXISTS adopted integer NOT NULL DEFAULT 0;
