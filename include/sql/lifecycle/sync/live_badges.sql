-- The badges a sync reads in Credly (docs/credly-sync.md): issued by the pipeline and not
-- final there. A badge the pipeline is revoking right now (its revocation in flight) is left
-- to the revoke task; a final one (rejected, revoked, expired, deleted) is never read again.
SELECT i.credly_badge_id, i.credly_state
FROM badging.issuance i
WHERE i.state = 'issued'
  AND (i.credly_state IS NULL OR i.credly_state IN ('pending', 'accepted'))
  AND NOT EXISTS (SELECT 1 FROM badging.revocation r
                  WHERE r.issuance_id = i.issuance_id AND r.revocation_state = 'in_flight');
