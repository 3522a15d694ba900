-- Rows a warning-level check flagged in the run (not quarantined): ids and checks only.
SELECT certification_id, site_code, checks
FROM badging.dq_row_warning
WHERE run_id = %(run_id)s
ORDER BY certification_id;
