-- The trend the correction report charts: the latest real run of each day, up to this one,
-- with the badges it revoked (run_summary.revocations; 0 before revocations existed) and the
-- badges its Credly sync found newly accepted (badging.credly_sync; 0 without a sync).
SELECT h.logical_date, h.run_id, h.staged, h.issued, h.already_issued, h.quarantined,
       h.ineligible, h.ineligible_by_reason, h.dq_success, h.warned,
       coalesce((s.revocations ->> 'revoked')::int, 0) AS revoked,
       coalesce((c.counts -> 'changes' ->> 'accepted')::int, 0) AS accepted
FROM (
    SELECT *
    FROM badging.dq_history
    WHERE logical_date <= %(day)s
    ORDER BY logical_date DESC
    LIMIT %(runs)s
) h
JOIN badging.run_summary s USING (run_id)
LEFT JOIN badging.credly_sync c USING (run_id)
ORDER BY h.logical_date;
