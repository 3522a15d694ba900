-- Each issued badge against the live CTIMS rows the check staged under its own run id and
-- decided with the eligibility rules (eligibility/decide.sql): justified while at least one
-- live row of the same student and assessment earns it. Otherwise the reason names what
-- happened to the entry the badge was issued for (docs/lifecycle.md):
--   entry_removed     no such row any more (hard-deleted in CTIMS)
--   entry_reassigned  the row now names another student or assessment
--   <rule>            the row breaks a rule now: deleted, before_program_launch, ...
-- The site is the entry's, or its last staged one when the entry is gone (site reports).
CREATE TEMP TABLE badge_justification ON COMMIT DROP AS
SELECT i.issuance_id,
       i.certification_id,
       coalesce(k.justified, false) AS justified,
       CASE WHEN coalesce(k.justified, false) THEN NULL
            WHEN own.certification_id IS NULL THEN 'entry_removed'
            WHEN own.student_id IS DISTINCT FROM i.student_id
              OR own.assessment_code IS DISTINCT FROM i.assessment_code THEN 'entry_reassigned'
            ELSE coalesce(own.reason, 'entry_reassigned')
       END AS reason,
       coalesce(own.site_code, (SELECT h.site_code
                                FROM badging.staged_certification h
                                WHERE h.certification_id = i.certification_id
                                ORDER BY h.staged_at DESC
                                LIMIT 1)) AS site_code
FROM badging.issuance i
LEFT JOIN (SELECT student_id, assessment_code, bool_or(reason IS NULL) AS justified
           FROM badging.staged_certification
           WHERE run_id = %(live_run_id)s
           GROUP BY student_id, assessment_code) AS k
  ON k.student_id = i.student_id AND k.assessment_code = i.assessment_code
LEFT JOIN badging.staged_certification own
  ON own.run_id = %(live_run_id)s AND own.certification_id = i.certification_id
WHERE i.state = 'issued';
