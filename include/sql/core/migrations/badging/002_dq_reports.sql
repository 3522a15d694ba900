-- Data-quality reports (issue 5): scrubbed validation results, row warnings, the trend view.

-- One row per run and suite: the Great Expectations result with every offending value
-- removed (counts, percentages and check names only), so the report task can build Data
-- Docs on any worker. Holds no student data, so it is kept for the trend.
CREATE TABLE IF NOT EXISTS badging.dq_result (
    run_id       text        NOT NULL,
    suite        text        NOT NULL,
    -- critical: failing rows are quarantined or the run fails; warning: reported only.
    severity     text        NOT NULL CHECK (severity IN ('critical', 'warning')),
    success      boolean     NOT NULL,
    result       jsonb       NOT NULL,
    -- The one-line reason a critical table-level check failed, for the log and summary.
    reason       text,
    validated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, suite)
);

-- Rows a warning-level check flagged (possible duplicate entry, test date outside the
-- approval window, ...): they are not quarantined; the correction report lists them.
CREATE TABLE IF NOT EXISTS badging.dq_row_warning (
    run_id           text        NOT NULL,
    certification_id bigint      NOT NULL,
    site_code        text,
    checks           text[]      NOT NULL,
    PRIMARY KEY (run_id, certification_id)
);

ALTER TABLE badging.run_summary ADD COLUMN IF NOT EXISTS dq_reason text;

-- The trend over runs: the latest real (not dry) run of each day, its counts and checks.
CREATE OR REPLACE VIEW badging.dq_history AS
SELECT DISTINCT ON (s.logical_date)
       s.logical_date,
       s.run_id,
       s.staged,
       s.quarantined,
       s.ineligible,
       s.issued,
       s.already_issued,
       s.failed,
       s.ineligible_by_reason,
       s.dq_success,
       s.dq_failed_share,
       s.dq_reason,
       (SELECT coalesce(jsonb_object_agg(r.suite, r.success), '{}'::jsonb)
        FROM badging.dq_result r WHERE r.run_id = s.run_id)      AS suite_success,
       (SELECT count(*)
        FROM badging.dq_row_warning w WHERE w.run_id = s.run_id) AS warned,
       s.report_location,
       s.data_docs_location,
       s.updated_at
FROM badging.run_summary s
WHERE NOT s.dry_run
ORDER BY s.logical_date, s.updated_at DESC;
