-- An operator's volume decision binds (issue 28; badging/volume.py, docs/gates.md "The
-- volume gate's memory"): the row versions each volume decision judged, so that a later run
-- judges only what no gate judged before, holds what a refusal covers, and the band's
-- history leaves refused rows out.

-- One row per version of a Real-Time row (its certification id and updated_at, as staged)
-- that a volume gate judged: the first run whose check saw it claims it, and that run's
-- decision (badging.approval, gate 'volume') is the decision on it. A corrected row has a
-- new updated_at: a new version, judged anew. Ids and times only: no student data.
CREATE TABLE IF NOT EXISTS badging.volume_judgement (
    certification_id bigint      NOT NULL,
    updated_at       timestamptz NOT NULL,
    -- The run whose volume gate judged it, and that run's day.
    run_id           text        NOT NULL,
    logical_date     date        NOT NULL,
    judged_at        timestamptz NOT NULL DEFAULT now(),
    -- An operator released a refused decision's rows (param release_rejected_volume): who,
    -- when, and the run that did it (its triggering user).
    released_by      text,
    released_at      timestamptz,
    released_run_id  text,
    PRIMARY KEY (certification_id, updated_at)
);
CREATE INDEX IF NOT EXISTS volume_judgement_run_idx ON badging.volume_judgement (run_id);
CREATE INDEX IF NOT EXISTS volume_judgement_day_idx ON badging.volume_judgement (logical_date);
CREATE INDEX IF NOT EXISTS volume_judgement_updated_idx
    ON badging.volume_judgement (updated_at);

-- Rows of the run held by an earlier volume decision (audit event held).
ALTER TABLE badging.run_summary ADD COLUMN IF NOT EXISTS held integer NOT NULL DEFAULT 0;

-- The decisions taken before this migration judged the rows changed on their run's day (the
-- gate read nothing else): those still staged (14 days) are recorded as judged by them, so
-- the first run after the upgrade does not judge its lookback days again and earlier
-- rejections bind. A history load's range is not known here: its rows are judged again if a
-- run stages them.
INSERT INTO badging.volume_judgement (certification_id, updated_at, run_id, logical_date,
                                      judged_at)
SELECT DISTINCT ON (s.certification_id, s.updated_at)
       s.certification_id, s.updated_at, a.run_id, a.logical_date, a.decided_at
FROM badging.approval a
JOIN badging.staged_certification s ON s.run_id = a.run_id
WHERE a.gate = 'volume'
  AND s.updated_at >= a.logical_date::timestamp AT TIME ZONE 'America/Chicago'
  AND s.updated_at <  (a.logical_date + 1)::timestamp AT TIME ZONE 'America/Chicago'
ORDER BY s.certification_id, s.updated_at, a.decided_at
ON CONFLICT DO NOTHING;
