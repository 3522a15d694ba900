-- The run's staged row versions that no volume gate judged yet become this run's to judge:
-- the first run whose check sees a version claims it, whatever day it changed on (the run's
-- day, a late row of a past day, the lookback of a run that stopped before its gate). Two
-- checks racing serialise on the key. A version claimed before (by this run: a re-run of its
-- check) stays as it is.
INSERT INTO badging.volume_judgement (certification_id, updated_at, run_id, logical_date)
SELECT s.certification_id, s.updated_at, s.run_id, %(day)s
FROM badging.staged_certification s
WHERE s.run_id = %(run_id)s AND s.updated_at IS NOT NULL
ON CONFLICT (certification_id, updated_at) DO NOTHING;
