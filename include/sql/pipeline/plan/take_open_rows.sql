-- The badges this run's issue tasks take: its own planned ones and, swept in, every other
-- badge still open in the ledger whatever its age, so a row whose run died or was never
-- cleared, or whose staging was purged, is never lost (docs/exactly-once.md). Claims keep
-- two runs that take one row from both issuing it. A dry run takes nothing.
-- Numbered into batches next (pipeline/plan/assign_batches.sql). Two reads by index (the
-- run's staged rows, the ledger's open rows), not one of the whole ledger.
WITH own AS (
    SELECT DISTINCT issuance_id
    FROM badging.staged_certification
    WHERE run_id = %(run_id)s AND decision = 'planned' AND issuance_id IS NOT NULL
)
INSERT INTO badging.run_batch (run_id, issuance_id, batch_no, swept)
SELECT %(run_id)s, i.issuance_id, -1, false
FROM own
JOIN badging.issuance i USING (issuance_id)
WHERE NOT %(dry_run)s
UNION ALL
SELECT %(run_id)s, i.issuance_id, -1, true
FROM badging.issuance i
WHERE NOT %(dry_run)s
  AND i.state IN ('pending', 'in_flight')
  AND NOT EXISTS (SELECT 1 FROM own WHERE own.issuance_id = i.issuance_id);
