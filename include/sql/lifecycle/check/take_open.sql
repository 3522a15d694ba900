-- Gives this nightly run every revocation and correction still open, planned, held or in
-- flight in earlier runs: its gate and revoke task decide them all. One in flight in a run
-- that died stays claimed until its lease runs out; this run's revoke task then takes it over.
UPDATE badging.revocation r
SET run_id = %(run_id)s, updated_at = now()
WHERE r.revocation_state IN ('planned', 'held', 'in_flight') AND r.run_id <> %(run_id)s;
