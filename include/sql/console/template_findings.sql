-- The templates' health as the last report judged it (docs/outcomes.md), with CTIMS's name.
SELECT f.problem, f.assessment_code, a.name AS assessment_name, f.credly_template_id,
       f.detail, f.first_run_id, f.first_seen_at, f.last_seen_at
FROM badging.template_finding f
LEFT JOIN badging.ctims_assessment a USING (assessment_code)
ORDER BY f.problem, f.assessment_code;
