-- The console's lookup: the audit log of a certification and of its badges, newest first.
-- A badge's events (issue attempts, revocations) are keyed by issuance_id; the entry's
-- decisions by certification_id. Audit details hold no student data (docs/ledger.md).
SELECT a.logged_at, a.run_id, a.logical_date, a.task_id, a.map_index, a.try_number,
       a.certification_id, a.issuance_id, a.event, a.reason, a.detail
FROM badging.audit_log a
WHERE a.certification_id = %(certification_id)s
   OR a.issuance_id = ANY(%(issuance_ids)s)
ORDER BY a.logged_at DESC, a.audit_id DESC
LIMIT %(limit)s;
