-- Whom each badge should name now, for every justified issued badge not yet expired and every
-- failed one a live entry earns again: the live entry of its certification period that earns
-- it (its own entry first; badging.entry_period) with its student's current address and
-- name. An expired badge is past correcting: no name or address change is planned for it.
-- lifecycle/check.py digests them in Python (the key never reaches SQL) and drops them.
SELECT DISTINCT ON (i.issuance_id)
       i.issuance_id, s.certification_id, s.email, s.first_name, s.last_name
FROM badging.issuance i
LEFT JOIN badge_justification j ON j.issuance_id = i.issuance_id
JOIN badging.staged_certification s
  ON s.run_id = %(live_run_id)s AND s.student_id = i.student_id
 AND s.assessment_code = i.assessment_code AND s.reason IS NULL
WHERE ((j.justified AND (i.expires_at IS NULL OR i.expires_at > %(now)s))
       OR i.state = 'failed')
  AND badging.entry_period(s.student_id, s.assessment_code, s.test_date) = i.issuance_id
ORDER BY i.issuance_id, s.certification_id = i.certification_id DESC, s.certification_id;
