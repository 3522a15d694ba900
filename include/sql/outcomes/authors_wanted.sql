-- The certifications whose author the console needs: the run's staged entries (read again:
-- their CTIMS row changed) and the badges whose author was never read.
SELECT certification_id
FROM badging.staged_certification
WHERE run_id = %(run_id)s
UNION
SELECT certification_id
FROM badging.outcome_badge
WHERE NOT author_read;
