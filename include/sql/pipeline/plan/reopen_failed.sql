-- A badge that failed for good is tried again only when its entry was corrected in CTIMS
-- after the failure, or when the operator asks for it (param retry_failed): the period the
-- corrected row falls in (badging.entry_period), unless that row's badge would already be
-- expired (row_expiry).
UPDATE badging.issuance i
SET state = 'pending',
    last_error = NULL,
    -- The entry that justifies it now (the failed one may have been deleted since).
    certification_id = s.certification_id,
    credly_template_id = t.credly_template_id,
    updated_at = now()
FROM badging.staged_certification s
JOIN badging.badge_templates t
  ON t.assessment_code = s.assessment_code AND t.active
LEFT JOIN row_expiry x
  ON x.certification_id = s.certification_id
WHERE s.run_id = %(run_id)s
  AND s.decision IS NULL
  AND i.issuance_id = badging.entry_period(s.student_id, s.assessment_code, s.test_date)
  AND i.state = 'failed'
  AND NOT coalesce(x.expired, false)
  AND (%(retry_failed)s OR s.updated_at > i.updated_at);
