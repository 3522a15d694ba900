-- Advances each badge's findings (badging.badge_finding) by tonight's (badge_observed), in a
-- nightly run only (RunInfo.is_nightly), so a streak counts nights:
--   the same finding as the night before grows by a night; the same night again (a re-run)
--   changes nothing; another detail, or a night missed, starts it again from tonight;
--   a finding not seen tonight ends (audit justified_again when the badge is earned again).
-- A finding that starts is audited with its kind as the event, once per run.
WITH advanced AS (
    INSERT INTO badging.badge_finding AS f (issuance_id, kind, detail, site_code, first_day,
                                           last_day, nights, first_seen_at, last_seen_at)
    SELECT issuance_id, kind, detail, site_code, %(day)s, %(day)s, 1, %(now)s, %(now)s
    FROM badge_observed
    ON CONFLICT (issuance_id, kind) DO UPDATE SET
        site_code     = EXCLUDED.site_code,
        detail        = EXCLUDED.detail,
        nights        = CASE WHEN f.detail <> EXCLUDED.detail
                               OR f.last_day < EXCLUDED.last_day - 1 THEN 1
                             WHEN f.last_day = EXCLUDED.last_day - 1 THEN f.nights + 1
                             ELSE f.nights END,
        first_day     = CASE WHEN f.detail <> EXCLUDED.detail
                               OR f.last_day < EXCLUDED.last_day - 1 THEN EXCLUDED.first_day
                             ELSE f.first_day END,
        first_seen_at = CASE WHEN f.detail <> EXCLUDED.detail
                               OR f.last_day < EXCLUDED.last_day - 1 THEN EXCLUDED.first_seen_at
                             ELSE f.first_seen_at END,
        last_day      = greatest(f.last_day, EXCLUDED.last_day),
        last_seen_at  = CASE WHEN f.detail = EXCLUDED.detail
                              AND f.last_day >= EXCLUDED.last_day THEN f.last_seen_at
                             ELSE EXCLUDED.last_seen_at END
    RETURNING f.issuance_id, f.kind, f.nights, f.first_seen_at
),
started AS (
    SELECT a.issuance_id, a.kind, o.reason
    FROM advanced a
    JOIN badge_observed o USING (issuance_id, kind)
    WHERE a.nights = 1 AND a.first_seen_at = %(now)s
),
ended AS (
    DELETE FROM badging.badge_finding f
    WHERE NOT EXISTS (SELECT 1 FROM badge_observed o
                      WHERE o.issuance_id = f.issuance_id AND o.kind = f.kind)
    RETURNING f.issuance_id, f.kind
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       i.certification_id, s.issuance_id, s.kind, s.reason
FROM started s
JOIN badging.issuance i USING (issuance_id)
WHERE NOT EXISTS (SELECT 1 FROM badging.audit_log a
                  WHERE a.run_id = %(run_id)s AND a.issuance_id = s.issuance_id
                    AND a.event = s.kind)
UNION ALL
SELECT DISTINCT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       i.certification_id, e.issuance_id, 'justified_again', NULL::text
FROM ended e
JOIN badge_justification j ON j.issuance_id = e.issuance_id AND j.justified
JOIN badging.issuance i ON i.issuance_id = e.issuance_id
WHERE e.kind IN ('unjustified', 'needs_review');
