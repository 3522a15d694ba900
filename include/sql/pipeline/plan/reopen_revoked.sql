-- A badge the pipeline revoked whose justification came back is issued again as a new
-- badge: the same ledger row (the certification period the entry falls in) goes back to
-- pending without its old Credly id, which badging.revocation keeps (audit reissue_planned).
-- An eligible row staged under `staged_run_id` is that justification: the day's rows (plan),
-- or every live CTIMS row (the nightly check, whatever the rows' updated_at:
-- docs/lifecycle.md, "Healing"). A badge revoked in Credly by someone else is never
-- re-issued here, nor one whose expiry has passed (its period is over).
WITH entry AS (
    SELECT DISTINCT ON (p.issuance_id)
           p.issuance_id, s.certification_id, t.credly_template_id
    FROM badging.staged_certification s
    JOIN badging.badge_templates t
      ON t.assessment_code = s.assessment_code AND t.active
    CROSS JOIN LATERAL (
        SELECT badging.entry_period(s.student_id, s.assessment_code, s.test_date)
               AS issuance_id) AS p
    WHERE s.run_id = %(staged_run_id)s AND s.decision IS NULL AND s.reason IS NULL
      AND p.issuance_id IS NOT NULL
    ORDER BY p.issuance_id, s.test_date, s.certification_id
),
reopened AS (
    UPDATE badging.issuance i
    SET state = 'pending', credly_badge_id = NULL, certification_id = e.certification_id,
        credly_template_id = e.credly_template_id, issued_run_id = NULL, issued_at = NULL,
        last_error = NULL, lookup_first = false, planned_run_id = %(run_id)s,
        updated_at = now()
    FROM entry e
    WHERE i.issuance_id = e.issuance_id
      AND i.state = 'revoked'
      AND (i.expires_at IS NULL OR i.expires_at > %(now)s)
      AND EXISTS (SELECT 1 FROM badging.revocation r
                  WHERE r.issuance_id = i.issuance_id AND r.revocation_state = 'revoked'
                    AND r.credly_badge_id = i.credly_badge_id)
    RETURNING i.issuance_id, i.certification_id
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       certification_id, issuance_id, 'reissue_planned'
FROM reopened;
