INSERT INTO badging.run_summary (
    run_id, logical_date, window_start, window_end, dry_run, staged, quarantined, ineligible,
    planned, issued, already_issued, adopted, failed, still_pending, would_issue, held,
    ineligible_by_reason, dq_success, dq_failed_share, report_location, data_docs_location,
    revocations, updated_at)
VALUES (
    %(run_id)s, %(logical_date)s, %(window_start)s, %(window_end)s, %(dry_run)s, %(staged)s,
    %(quarantined)s, %(ineligible)s, %(planned)s, %(issued)s, %(already_issued)s, %(adopted)s,
    %(failed)s, %(still_pending)s, %(would_issue)s, %(held)s, %(ineligible_by_reason)s,
    %(dq_success)s, %(dq_failed_share)s, %(report_location)s, %(data_docs_location)s,
    %(revocations)s, now())
ON CONFLICT (run_id) DO UPDATE SET
    staged = EXCLUDED.staged, quarantined = EXCLUDED.quarantined,
    ineligible = EXCLUDED.ineligible, planned = EXCLUDED.planned, issued = EXCLUDED.issued,
    already_issued = EXCLUDED.already_issued, adopted = EXCLUDED.adopted,
    failed = EXCLUDED.failed,
    still_pending = EXCLUDED.still_pending, would_issue = EXCLUDED.would_issue,
    held = EXCLUDED.held,
    ineligible_by_reason = EXCLUDED.ineligible_by_reason, dq_success = EXCLUDED.dq_success,
    dq_failed_share = EXCLUDED.dq_failed_share, report_location = EXCLUDED.report_location,
    data_docs_location = EXCLUDED.data_docs_location, window_start = EXCLUDED.window_start,
    window_end = EXCLUDED.window_end, dry_run = EXCLUDED.dry_run,
    revocations = EXCLUDED.revocations, updated_at = now();
