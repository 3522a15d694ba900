-- The census the source guard compares tonight's with: the latest earlier nightly check that
-- passed it, or that an operator accepted (accept_source_change). None: no baseline yet.
SELECT census
FROM badging.badge_check
WHERE run_id <> %(run_id)s AND counted AND census IS NOT NULL
  AND (blocked IS NULL OR accepted_by IS NOT NULL)
ORDER BY checked_at DESC
LIMIT 1;
