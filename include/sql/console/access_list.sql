-- Every mapping of Airflow users to sites, for the operators' Access page.
SELECT u.username, u.site_code, s.name AS site_name, u.granted_by, u.granted_at
FROM badging.console_site_user u
LEFT JOIN badging.ctims_site s USING (site_code)
ORDER BY u.username, u.site_code;
