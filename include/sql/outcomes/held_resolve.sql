-- A held entry a later run decided (issued, found ineligible, quarantined, ...) is no longer
-- waiting for anyone.
DELETE FROM badging.outcome_held h
WHERE EXISTS (SELECT 1 FROM badging.audit_log a
              WHERE a.certification_id = h.certification_id
                AND a.event = ANY(%(closing_events)s)
                AND a.logged_at > h.held_at);
