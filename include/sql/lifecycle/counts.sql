-- What the check found: live CTIMS rows, issued badges, unjustified ones.
SELECT (SELECT count(*) FROM badging.staged_certification WHERE run_id = %(live_run_id)s),
       count(*),
       count(*) FILTER (WHERE NOT justified)
FROM badge_justification;
