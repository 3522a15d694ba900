-- What the template health judges (docs/outcomes.md): every assessment CTIMS approves (as the
-- report's copy has it) and every badge template, side by side.
SELECT coalesce(a.assessment_code, t.assessment_code) AS assessment_code, a.name,
       a.vendor_issues_badge, a.vendor_badge_since, a.approved_from, a.approved_to,
       a.assessment_code IS NOT NULL AS in_ctims, t.credly_template_id,
       coalesce(t.active, false) AS active
FROM badging.ctims_assessment a
FULL JOIN badging.badge_templates t USING (assessment_code)
ORDER BY 1;
