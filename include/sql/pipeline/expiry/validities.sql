-- The validity in force for each assessment with a Credly template (pipeline/expiry.py): the
-- agency's setting (badging.assessment_validity) first, else the template's default as plan
-- last read it from Credly (badging.credly_template; not read: unknown).
SELECT t.assessment_code, t.credly_template_id, v.valid_months, v.never,
       c.read_at IS NOT NULL AS template_read, c.expires_in_days
FROM badging.badge_templates t
LEFT JOIN badging.assessment_validity v ON v.assessment_code = t.assessment_code
LEFT JOIN badging.credly_template c ON c.credly_template_id = t.credly_template_id;
