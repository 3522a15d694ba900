-- Applies the agency's rules to every validated row of the run: the first reason that
-- applies, or none for a row that earns a badge. The CTIMS side of the join (approved
-- list, programs, sites, blueprint alignment, enrollments, students) was computed into
-- the staged facts by pipeline/extract/realtime_rows.sql; the template side is joined here.
-- Quarantined rows and rows the volume gate held (gates/volume/hold.sql) keep their decision.
-- The CASE order is constants.ELIGIBILITY_REASONS; the rules: docs/eligibility.md.
UPDATE badging.staged_certification s
SET reason      = decided.reason,
    decision    = CASE WHEN decided.reason IS NOT NULL THEN 'ineligible' END,
    issuance_id = NULL
FROM (
    SELECT r.certification_id,
           CASE
               WHEN r.deleted_at IS NOT NULL                  THEN 'deleted'
               WHEN NOT r.assessment_listed                   THEN 'not_approved_assessment'
               WHEN r.test_date < r.approved_from
                 OR r.test_date > r.approved_to               THEN 'assessment_not_effective'
               WHEN r.vendor_issues_badge                     THEN 'vendor_badge'
               WHEN NOT r.has_aligned_program                 THEN 'no_aligned_program'
               WHEN r.test_date < %(program_launch)s          THEN 'before_program_launch'
               WHEN t.assessment_code IS NULL                 THEN 'no_badge_template'
               WHEN r.badge_opt_out                           THEN 'opted_out'
           END AS reason
    FROM badging.staged_certification r
    LEFT JOIN badging.badge_templates t
      ON t.assessment_code = r.assessment_code AND t.active
    WHERE r.run_id = %(run_id)s
      AND (r.decision IS NULL OR r.decision NOT IN ('quarantined', 'held'))
) AS decided
WHERE s.run_id = %(run_id)s
  AND s.certification_id = decided.certification_id;
