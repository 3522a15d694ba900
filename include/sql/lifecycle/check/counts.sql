-- What the check found: live CTIMS rows, issued badges, badges their own entries no longer
-- earn, and badges only a reference table refuses (for a person to review).
SELECT (SELECT count(*) FROM badging.staged_certification WHERE run_id = %(live_run_id)s),
       count(*),
       count(*) FILTER (WHERE NOT justified AND cause = 'entry'),
       count(*) FILTER (WHERE NOT justified AND cause = 'reference')
FROM badge_justification;
