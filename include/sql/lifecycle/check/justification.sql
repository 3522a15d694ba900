-- Each issued badge against the live CTIMS rows the check staged under its own run id and
-- decided with the eligibility rules (pipeline/eligibility/decide.sql): justified while at least one
-- live row of the same student and assessment in the badge's certification period earns it
-- (badging.entry_period: tested from its entry's test date up to the next period's; a badge
-- of period 1 with no renewal takes every entry). Otherwise the reason names what
-- happened to the entry the badge was issued for (docs/lifecycle.md):
--   entry_removed     no such row any more (hard-deleted in CTIMS)
--   entry_reassigned  the row now names another student or assessment
--   <rule>            the row breaks a rule now: deleted, no_aligned_program, ...
-- and the cause says who may revoke it ("What may revoke"):
--   entry      the badge's own entry changed (removed, reassigned, deleted, or its test date
--              moved from the one the badge carries) and no other live entry of the student
--              and assessment remains in its period: revoked after the grace;
--   reference  the entry is as it was, so a reference table refuses it now (enrollments,
--              programs, sites, the approved list, alignment, templates, opt-out), or another
--              live entry stands whose refusal may be one: a person decides.
-- The site is the entry's, or its last staged one when the entry is gone (site reports).
-- An incremental check (`students` set) judges the badges of the students it staged only.
CREATE TEMP TABLE badge_justification ON COMMIT DROP AS
WITH placed AS (
    SELECT badging.entry_period(student_id, assessment_code, test_date) AS issuance_id,
           certification_id, reason, deleted_at
    FROM badging.staged_certification
    WHERE run_id = %(live_run_id)s
),
kept AS (
    SELECT issuance_id, bool_or(reason IS NULL) AS justified,
           array_agg(certification_id) FILTER (WHERE deleted_at IS NULL) AS live_ids
    FROM placed
    WHERE issuance_id IS NOT NULL
    GROUP BY issuance_id
)
SELECT i.issuance_id,
       i.certification_id,
       coalesce(k.justified, false) AS justified,
       CASE WHEN coalesce(k.justified, false) THEN NULL
            WHEN own.certification_id IS NULL THEN 'entry_removed'
            WHEN own.student_id IS DISTINCT FROM i.student_id
              OR own.assessment_code IS DISTINCT FROM i.assessment_code THEN 'entry_reassigned'
            ELSE coalesce(own.reason, 'entry_reassigned')
       END AS reason,
       CASE WHEN coalesce(k.justified, false) THEN NULL
            WHEN (own.certification_id IS NULL
                  OR own.student_id IS DISTINCT FROM i.student_id
                  OR own.assessment_code IS DISTINCT FROM i.assessment_code
                  OR own.deleted_at IS NOT NULL
                  OR own.test_date IS DISTINCT FROM coalesce(i.entry_test_date, own.test_date))
             -- another live entry of the student and assessment
             AND coalesce(cardinality(array_remove(k.live_ids, i.certification_id)), 0) = 0
                 THEN 'entry'
            ELSE 'reference'
       END AS cause,
       coalesce(own.site_code, (SELECT h.site_code
                                FROM badging.staged_certification h
                                WHERE h.certification_id = i.certification_id
                                ORDER BY h.staged_at DESC
                                LIMIT 1)) AS site_code
FROM badging.issuance i
LEFT JOIN kept k
  ON k.issuance_id = i.issuance_id
LEFT JOIN badging.staged_certification own
  ON own.run_id = %(live_run_id)s AND own.certification_id = i.certification_id
WHERE i.state = 'issued'
  AND (%(students)s::bigint[] IS NULL OR i.student_id = ANY(%(students)s::bigint[]));
