-- The acceptance figures of the whole ledger as of this run (run_summary.acceptance): badges
-- synced, accepted, pending, rejected, expired, the rate, the median days to accept, those
-- unaccepted after `days` days and those revoked or deleted in Credly by someone else.
-- The badges of view badging.acceptance (migrations 008 and 013) and of unaccepted_badge,
-- counted in one read of the ledger instead of the view's medians per group.
WITH synced AS (
    SELECT count(*) AS badges,
           count(*) FILTER (WHERE credly_state = 'accepted') AS accepted,
           count(*) FILTER (WHERE credly_state = 'pending') AS pending,
           count(*) FILTER (WHERE credly_state = 'rejected') AS rejected,
           count(*) FILTER (WHERE credly_state = 'expired') AS expired,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM credly_state_changed_at - issued_at) / 86400.0)
               FILTER (WHERE credly_state = 'accepted') AS median_days_to_accept,
           count(*) FILTER (WHERE state = 'issued' AND credly_state = 'pending'
                              AND floor(extract(epoch FROM now() - issued_at) / 86400)
                                  >= %(days)s) AS unaccepted
    FROM badging.issuance
    WHERE credly_state IS NOT NULL AND issued_at IS NOT NULL
)
SELECT jsonb_build_object(
    'synced', badges,
    'accepted', accepted,
    'pending', pending,
    'rejected', rejected,
    -- Expired badges apart, and out of the rate (an expired badge no longer says whether its
    -- earner accepted it).
    'expired', expired,
    'acceptance_rate', CASE WHEN badges - expired > 0
                            THEN round(accepted::numeric / (badges - expired), 4) END,
    'median_days_to_accept', median_days_to_accept,
    'unaccepted', unaccepted,
    'changed_in_credly', (SELECT count(*) FROM badging.credly_external_change))
FROM synced;
