-- The sites an Airflow user who is not an operator may see on the console (docs/outcomes.md,
-- "Who sees what"); `*` is every site.
SELECT site_code FROM badging.console_site_user WHERE username = %(username)s;
