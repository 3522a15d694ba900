-- An operator takes a site away from an Airflow user.
DELETE FROM badging.console_site_user
WHERE username = %(username)s AND site_code = %(site_code)s;
