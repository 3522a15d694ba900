-- The run's revocation story (docs/lifecycle.md) in one row: `counts`, the run summary's
-- `revocations`, and `badges`, what the correction report lists per site. Only what this
-- run did: the badges it revoked (revocation.revoked_run_id), and the revocations it held,
-- saw fail for good, would make (dry run, backfill) and undid by re-issuing, as it audited
-- them. Certification ids, site codes and reasons only: no recipient details.
-- Name and email corrections (docs/recipient-corrections.md) count as `replaced`, `kept`
-- (an accepted badge whose email changed) and `would_correct`; a move is a revocation.
-- The badges waiting for a person (`needs_review`: only a reference table refuses them) and
-- those whose student's record is unusable (`recipient_unknown`) are listed as they stand
-- when the report is written (badging.badge_finding).
WITH outcome AS (
    SELECT coalesce(a.certification_id, i.certification_id) AS certification_id,
           r.site_code, r.reason, 'revoked' AS outcome
    FROM badging.revocation r
    JOIN badging.issuance i USING (issuance_id)
    -- The entry the badge stood for when it was revoked: a badge issued again since
    -- names its new entry on the ledger row.
    LEFT JOIN badging.audit_log a
      ON a.run_id = r.revoked_run_id AND a.issuance_id = r.issuance_id AND a.event = 'revoked'
    WHERE r.revoked_run_id = %(run_id)s
    UNION ALL
    SELECT a.certification_id,
           coalesce(a.detail ->> 'site_code', r.site_code, s.site_code),
           -- A failed revocation's audit reason is Credly's error, not why it was planned.
           CASE WHEN a.event = 'revoke_failed' THEN r.reason ELSE coalesce(a.reason, r.reason) END,
           CASE a.event WHEN 'revoke_held' THEN 'held'
                        WHEN 'revoke_failed' THEN 'failed'
                        WHEN 'reissue_planned' THEN 'reissued'
                        WHEN 'email_changed_after_acceptance' THEN 'kept'
                        WHEN 'would_replace' THEN 'would_correct'
                        WHEN 'would_move' THEN 'would_correct'
                        ELSE a.event END
    FROM badging.audit_log a
    -- The badge's latest revocation (held, failed, or the one a re-issue undoes).
    LEFT JOIN LATERAL (
        SELECT site_code, reason FROM badging.revocation
        WHERE issuance_id = a.issuance_id
        ORDER BY revocation_id DESC
        LIMIT 1
    ) r ON true
    -- A dry run's badge may have no revocation: its entry as this run staged it, if it did.
    LEFT JOIN badging.staged_certification s
      ON s.run_id = a.run_id AND s.certification_id = a.certification_id
    WHERE a.run_id = %(run_id)s
      AND a.event IN ('revoke_held', 'revoke_failed', 'would_revoke', 'reissue_planned',
                      'replaced', 'email_changed_after_acceptance', 'would_replace',
                      'would_move')
    UNION ALL
    SELECT i.certification_id, f.site_code, f.detail, f.kind
    FROM badging.badge_finding f
    JOIN badging.issuance i ON i.issuance_id = f.issuance_id
    WHERE f.kind IN ('needs_review', 'recipient_unknown')
),
listed AS (
    SELECT certification_id, site_code, coalesce(reason, 'unknown') AS reason, outcome
    FROM outcome
    WHERE outcome IN ('revoked', 'held', 'would_revoke', 'needs_review', 'recipient_unknown')
),
per_reason AS (
    SELECT coalesce(site_code, 'unknown') AS site, reason,
           jsonb_build_object('revoked', count(*) FILTER (WHERE outcome = 'revoked'),
                              'held', count(*) FILTER (WHERE outcome = 'held'),
                              'would_revoke', count(*) FILTER (WHERE outcome = 'would_revoke'),
                              'needs_review', count(*) FILTER (WHERE outcome = 'needs_review'),
                              'recipient_unknown',
                                  count(*) FILTER (WHERE outcome = 'recipient_unknown'))
               AS counts
    FROM listed
    GROUP BY 1, 2
),
per_site AS (
    SELECT site, jsonb_object_agg(reason, counts) AS reasons
    FROM per_reason
    GROUP BY site
),
checked AS (
    SELECT unjustified, blocked FROM badging.badge_check WHERE run_id = %(run_id)s
)
SELECT jsonb_build_object(
           'unjustified',  coalesce((SELECT unjustified FROM checked), 0),
           'revoked',      (SELECT count(*) FROM outcome WHERE outcome = 'revoked'),
           'held',         (SELECT count(*) FROM outcome WHERE outcome = 'held'),
           'failed',       (SELECT count(*) FROM outcome WHERE outcome = 'failed'),
           'would_revoke', (SELECT count(*) FROM outcome WHERE outcome = 'would_revoke'),
           'reissued',     (SELECT count(*) FROM outcome WHERE outcome = 'reissued'),
           'replaced',     (SELECT count(*) FROM outcome WHERE outcome = 'replaced'),
           'kept',         (SELECT count(*) FROM outcome WHERE outcome = 'kept'),
           'would_correct', (SELECT count(*) FROM outcome WHERE outcome = 'would_correct'),
           'needs_review', (SELECT count(*) FROM outcome WHERE outcome = 'needs_review'),
           'recipient_unknown',
               (SELECT count(*) FROM outcome WHERE outcome = 'recipient_unknown'),
           'blocked',      (SELECT blocked FROM checked),
           'by_site',      (SELECT coalesce(jsonb_object_agg(site, reasons), '{}') FROM per_site)
       ) AS counts,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(certification_id, site_code, reason, outcome)
                                  ORDER BY certification_id, outcome), '[]')
        FROM listed) AS badges;
