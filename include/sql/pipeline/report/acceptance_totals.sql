-- The acceptance figures of the whole ledger as of this run (run_summary.acceptance): badges
-- synced, accepted, pending, rejected, expired, the rate, the median days to accept, those
-- unaccepted after `days` days and those revoked or deleted in Credly by someone else.
SELECT jsonb_build_object(
    'synced', coalesce(sum(badges), 0),
    'accepted', coalesce(sum(accepted), 0),
    'pending', coalesce(sum(pending), 0),
    'rejected', coalesce(sum(rejected), 0),
    -- Expired badges apart, and out of the rate (an expired badge no longer says whether its
    -- earner accepted it).
    'expired', coalesce(sum(expired), 0),
    'acceptance_rate', CASE WHEN sum(badges) - sum(expired) > 0
                            THEN round(sum(accepted) / (sum(badges) - sum(expired)), 4) END,
    'median_days_to_accept', (
        SELECT percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY extract(epoch FROM i.credly_state_changed_at - i.issued_at) / 86400.0)
        FROM badging.issuance i
        WHERE i.credly_state = 'accepted' AND i.issued_at IS NOT NULL),
    'unaccepted', (SELECT count(*) FROM badging.unaccepted_badge
                   WHERE days_unaccepted >= %(days)s),
    'changed_in_credly', (SELECT count(*) FROM badging.credly_external_change))
FROM badging.acceptance;
