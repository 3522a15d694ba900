-- A later passing entry renews an expired badge (docs/ledger.md, "Certification periods"): a
-- new ledger row, the next period, for the earliest eligible row staged under
-- `staged_run_id` (the day's rows in plan, every live row in the nightly check) that
-- renews the latest period of its student and assessment (badging.renews: issued, tested
-- after that period's entry and within the window before its expiry day), once that badge has
-- expired by now, and whose own badge would not be expired already (row_expiry). The earlier
-- badge is left to expire in Credly: never revoked. ON CONFLICT: one row per period, whatever
-- runs race. Audited renewal_planned with the period and the one it renews.
WITH renewed AS (
    INSERT INTO badging.issuance (student_id, assessment_code, period, certification_id,
                                  credly_template_id, earner_id, planned_run_id,
                                  entry_test_date, expires_at, previous_issuance_id)
    SELECT DISTINCT ON (cur.issuance_id)
           s.student_id, s.assessment_code, cur.period + 1, s.certification_id,
           t.credly_template_id, cur.earner_id, %(run_id)s, s.test_date, x.expires_at,
           cur.issuance_id
    FROM badging.staged_certification s
    JOIN badging.badge_templates t
      ON t.assessment_code = s.assessment_code AND t.active
    JOIN badging.issuance cur
      ON cur.issuance_id = badging.entry_period(s.student_id, s.assessment_code, s.test_date)
    JOIN row_expiry x
      ON x.certification_id = s.certification_id
    WHERE s.run_id = %(staged_run_id)s
      AND s.decision IS NULL
      AND s.reason IS NULL
      AND badging.renews(cur.issuance_id, s.test_date, %(window_days)s)
      AND cur.expires_at <= %(now)s
      AND NOT x.expired
    ORDER BY cur.issuance_id, s.test_date, s.certification_id
    ON CONFLICT (student_id, assessment_code, period) DO NOTHING
    RETURNING issuance_id, certification_id, period, previous_issuance_id
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       certification_id, issuance_id, 'renewal_planned',
       jsonb_build_object('period', period, 'renews_issuance_id', previous_issuance_id)
FROM renewed;
