-- At most one list per site and day: a re-run or a cleared task finds it and adds nothing.
INSERT INTO badging.site_list (site_code, day, run_id, recipient, certification_ids, subject,
                               body)
VALUES (%(site_code)s, %(day)s, %(run_id)s, %(recipient)s, %(certification_ids)s, %(subject)s,
        %(body)s)
ON CONFLICT (site_code, day) DO NOTHING
RETURNING site_list_id
