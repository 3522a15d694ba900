-- The console's page of one technology center (the address its morning list links to): its
-- open items, newest first. Entries: the latest staged decision (non-dry runs) of each of
-- the site's certifications, when it is a quarantine or an ineligibility the site can fix.
-- Badges: revocations held or failed for the site, and badges the nightly check keeps for a
-- person (needs_review: only a reference table refuses them; recipient_unknown: the
-- student's name or email is blank or malformed in CTIMS; docs/lifecycle.md). Certification
-- ids, codes and reasons only; staging keeps STAGING_RETENTION_DAYS days (docs/bounds.md).
WITH latest AS (
    SELECT DISTINCT ON (s.certification_id)
           s.certification_id, s.site_code, s.decision, s.reason, s.assessment_code,
           s.program_code, s.run_id, rs.logical_date, q.expectations, s.staged_at
    FROM badging.staged_certification s
    JOIN badging.run_summary rs ON rs.run_id = s.run_id AND NOT rs.dry_run
    LEFT JOIN badging.quarantine q
      ON q.run_id = s.run_id AND q.certification_id = s.certification_id
    WHERE s.site_code = %(site_code)s
    ORDER BY s.certification_id, s.staged_at DESC
)
SELECT certification_id, decision AS outcome, reason, expectations, assessment_code,
       program_code, run_id, logical_date
FROM latest
WHERE decision = %(quarantined)s
   OR (decision = %(ineligible)s AND reason = ANY(%(fixable_reasons)s))
UNION ALL
SELECT r.certification_id, r.revocation_state, r.reason, NULL, i.assessment_code, NULL,
       r.run_id, NULL
FROM badging.revocation r
JOIN badging.issuance i USING (issuance_id)
WHERE r.site_code = %(site_code)s
  AND r.revocation_state = ANY(%(open_revocation_states)s)
UNION ALL
SELECT i.certification_id, f.kind, f.detail, NULL, i.assessment_code, i.program_code, NULL,
       f.first_day
FROM badging.badge_finding f
JOIN badging.issuance i USING (issuance_id)
WHERE f.site_code = %(site_code)s
  AND f.kind IN ('needs_review', 'recipient_unknown')
ORDER BY logical_date DESC NULLS LAST, certification_id;
