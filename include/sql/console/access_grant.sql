-- An operator lets an Airflow user see a site (or `*`, every site).
INSERT INTO badging.console_site_user (username, site_code, granted_by)
VALUES (%(username)s, %(site_code)s, %(granted_by)s)
ON CONFLICT (username, site_code) DO NOTHING;
