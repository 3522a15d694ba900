-- What Credly needs to issue the given certifications' badges, read live from CTIMS (not
-- from a run's staging, which is purged after two weeks): a row open for a month is still
-- issued to the student's current address. Normalised as pipeline/extract/realtime_rows.sql does.
-- A certification deleted since it was planned is not returned: nothing is issued for it.
-- One whose student row is missing (a partial replica) comes back without a name or
-- address: unknown, not gone (extract.Recipient.problem).
-- email_shared: another student has the same address (siblings and a parent's email), so a
-- badge Credly holds for the address without an earner id may be theirs. CTIMS has no index
-- on the normalised address: the addresses shared among the batch's are found in one pass
-- over the students (a subquery per row would scan them once per badge: minutes a batch).
WITH wanted AS (
    SELECT rc.certification_id, rc.test_date, s.student_id,
           btrim(s.first_name) AS first_name, btrim(s.last_name) AS last_name,
           lower(btrim(s.email)) AS email
    FROM ctims.realtime_certifications rc
    LEFT JOIN ctims.students s ON s.student_id = rc.student_id
    WHERE rc.certification_id = ANY(%(certification_ids)s)
      AND rc.deleted_at IS NULL
),
shared AS (
    SELECT lower(btrim(s.email)) AS email
    FROM ctims.students s
    WHERE lower(btrim(s.email)) IN (SELECT email FROM wanted)
    GROUP BY 1
    HAVING count(DISTINCT s.student_id) > 1
)
SELECT w.certification_id, w.email, w.first_name, w.last_name, w.test_date,
       shared.email IS NOT NULL AS email_shared
FROM wanted w
LEFT JOIN shared USING (email);
