-- The console's Runs page: one row per run summary, newest day first.
SELECT run_id, logical_date, dry_run, staged, quarantined, ineligible, planned, issued,
       already_issued, failed, still_pending, would_issue, held, ineligible_by_reason,
       dq_success, dq_failed_share, dq_reason, revocations, approvals,
       report_location IS NOT NULL AS has_report,
       data_docs_location IS NOT NULL AS has_data_docs, updated_at
FROM badging.run_summary
ORDER BY logical_date DESC, updated_at DESC
LIMIT %(limit)s;
