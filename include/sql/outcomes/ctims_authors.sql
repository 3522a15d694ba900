-- Who entered each of these certifications in CTIMS (a staff login, not student data), for
-- the console's per-instructor lists (docs/outcomes.md). Reads CTIMS (read-only session).
SELECT certification_id, btrim(entered_by) AS entered_by
FROM ctims.realtime_certifications
WHERE certification_id = ANY(%(certification_ids)s);
