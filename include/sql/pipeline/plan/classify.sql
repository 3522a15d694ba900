-- Decides each eligible row against the ledger. One row per badge key carries the
-- badge (the one the ledger row points at, else the earliest test); the others are
-- duplicate entries. A badge issued by an earlier run, or by an earlier clear of this run
-- (a re-run day), is already_issued; one issued by this very attempt (plan re-run after
-- issue, no clear in between) stays planned so the story is unchanged (docs/eligibility.md).
UPDATE badging.staged_certification s
SET issuance_id = c.issuance_id,
    decision = CASE
        WHEN c.state IN ('issued', 'revoked')
         AND c.issued_run_id IS DISTINCT FROM %(issuing_run)s THEN 'already_issued'
        WHEN c.key_rank > 1                             THEN 'ineligible'
        WHEN c.state = 'failed'                         THEN 'ineligible'
        WHEN %(dry_run)s                                THEN 'would_issue'
        ELSE 'planned'
    END,
    reason = CASE
        WHEN c.state IN ('issued', 'revoked')
         AND c.issued_run_id IS DISTINCT FROM %(issuing_run)s THEN 'already_issued'
        WHEN c.key_rank > 1                             THEN 'duplicate_entry'
        WHEN c.state = 'failed'                         THEN 'previously_failed'
    END
FROM (
    SELECT r.certification_id, i.issuance_id, i.state, i.issued_run_id,
           row_number() OVER (
               PARTITION BY r.student_id, r.assessment_code
               ORDER BY (r.certification_id = i.certification_id) IS TRUE DESC,
                        r.test_date, r.certification_id
           ) AS key_rank
    FROM badging.staged_certification r
    LEFT JOIN badging.issuance i
      ON i.student_id = r.student_id AND i.assessment_code = r.assessment_code
    WHERE r.run_id = %(run_id)s
      AND r.decision IS NULL
) AS c
WHERE s.run_id = %(run_id)s
  AND s.certification_id = c.certification_id;
