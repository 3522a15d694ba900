-- Decides each eligible row against the ledger and the validities. A row belongs to the
-- certification period its test date falls in (badging.entry_period); one row per period
-- carries that badge (the one the ledger row points at, else the earliest test whose badge
-- is not expired), the others are duplicate entries. A badge issued by an earlier run, or by
-- an earlier clear of this run (a re-run day), is already_issued; one issued by this very
-- attempt (plan re-run after issue, no clear in between) stays planned so the story is
-- unchanged (docs/eligibility.md). A row whose own badge would already be expired is not
-- issued (expired_before_issue). A row that renews a badge still live waits for that
-- badge's expiry (renews_at_expiry; the nightly check plans the renewal then); in a dry run,
-- one that renews an expired badge would be issued.
UPDATE badging.staged_certification s
SET issuance_id = c.issuance_id,
    decision = CASE
        WHEN c.taken                                    THEN 'already_issued'
        WHEN c.expired                                  THEN 'ineligible'
        WHEN c.renews AND c.earlier_live                THEN 'already_issued'
        WHEN c.key_rank > 1                             THEN 'ineligible'
        WHEN c.state = 'failed'                         THEN 'ineligible'
        WHEN %(dry_run)s                                THEN 'would_issue'
        ELSE 'planned'
    END,
    reason = CASE
        WHEN c.taken                                    THEN 'already_issued'
        WHEN c.expired                                  THEN 'expired_before_issue'
        WHEN c.renews AND c.earlier_live                THEN 'renews_at_expiry'
        WHEN c.key_rank > 1                             THEN 'duplicate_entry'
        WHEN c.state = 'failed'                         THEN 'previously_failed'
    END
FROM (
    SELECT r.certification_id, i.issuance_id, i.state,
           i.state IN ('issued', 'revoked')
               AND i.issued_run_id IS DISTINCT FROM %(issuing_run)s
               AND NOT n.renews AS taken,
           coalesce(x.expired, false) AS expired,
           n.renews,
           coalesce(i.expires_at > %(now)s, false) AS earlier_live,
           row_number() OVER (
               PARTITION BY r.student_id, r.assessment_code, i.issuance_id
               ORDER BY (r.certification_id = i.certification_id) IS TRUE DESC,
                        coalesce(x.expired, false), r.test_date, r.certification_id
           ) AS key_rank
    FROM badging.staged_certification r
    LEFT JOIN badging.issuance i
      ON i.issuance_id = badging.entry_period(r.student_id, r.assessment_code, r.test_date)
    LEFT JOIN row_expiry x
      ON x.certification_id = r.certification_id
    CROSS JOIN LATERAL (
        SELECT coalesce(badging.renews(i.issuance_id, r.test_date, %(window_days)s), false)
               AS renews) AS n
    WHERE r.run_id = %(run_id)s
      AND r.decision IS NULL
) AS c
WHERE s.run_id = %(run_id)s
  AND s.certification_id = c.certification_id;
