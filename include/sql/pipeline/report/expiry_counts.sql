-- The badges the run issued by expiry (run_summary.expiry): with an expiry, without (never,
-- or Credly's template sets none), and the renewals among them (period above 1).
SELECT jsonb_build_object(
    'with_expiry', count(*) FILTER (WHERE i.expires_at IS NOT NULL),
    'without_expiry', count(*) FILTER (WHERE i.expires_at IS NULL),
    'renewals', count(*) FILTER (WHERE i.period > 1))
FROM badging.issuance i
WHERE i.issuance_id IN (SELECT a.issuance_id FROM badging.audit_log a
                        WHERE a.run_id = %(run_id)s AND a.event = 'issued');
