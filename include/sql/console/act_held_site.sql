-- One site's entries held by an operator's decision, with who entered them.
SELECT h.certification_id, h.reason, h.run_id, h.held_at, a.entered_by
FROM badging.outcome_held h
LEFT JOIN badging.entry_author a ON a.certification_id = h.certification_id
WHERE h.site_code = %(site_code)s
ORDER BY h.held_at DESC, h.certification_id;
