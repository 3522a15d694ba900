-- What Credly needs to issue the given certifications' badges, read live from CTIMS (not
-- from a run's staging, which is purged after two weeks): a row open for a month is still
-- issued to the student's current address. Normalised as extract/realtime_rows.sql does.
-- A certification deleted since it was planned is not returned: nothing is issued for it.
-- email_shared: another student has the same address (siblings and a parent's email), so a
-- badge Credly holds for the address without an earner id may be theirs.
WITH wanted AS (
    SELECT rc.certification_id, rc.test_date, s.student_id,
           btrim(s.first_name) AS first_name, btrim(s.last_name) AS last_name,
           lower(btrim(s.email)) AS email
    FROM ctims.realtime_certifications rc
    JOIN ctims.students s ON s.student_id = rc.student_id
    WHERE rc.certification_id = ANY(%(certification_ids)s)
      AND rc.deleted_at IS NULL
)
SELECT w.certification_id, w.email, w.first_name, w.last_name, w.test_date,
       EXISTS (SELECT 1 FROM ctims.students other
               WHERE lower(btrim(other.email)) = w.email
                 AND other.student_id <> w.student_id) AS email_shared
FROM wanted w;
