INSERT INTO badging.quarantine (run_id, certification_id, site_code, expectations)
SELECT %(run_id)s, %(certification_id)s, site_code, %(expectations)s
FROM badging.staged_certification
WHERE run_id = %(run_id)s AND certification_id = %(certification_id)s
ON CONFLICT (run_id, certification_id) DO UPDATE SET expectations = EXCLUDED.expectations;
