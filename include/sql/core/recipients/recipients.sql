-- What Credly needs to issue the given certifications' badges, read live from CTIMS (not
-- from a run's staging, which is purged after two weeks): a row open for a month is still
-- issued to the student's current address. Normalised as pipeline/extract/realtime_rows.sql does.
-- A certification deleted since it was planned is not returned: nothing is issued for it.
-- One whose student row is missing (a partial replica) comes back without a name or
-- address: unknown, not gone (extract.Recipient.problem).
-- email_shared: another student has the same address (siblings and a parent's email), so a
-- badge Credly holds for the address without an earner id may be theirs: looked up by the
-- index on the normalised address (ctims migration 005), the batch's addresses only.
-- The entry's codes and the CTIMS names of its assessment, program and site are the badge's
-- evidence (reports/evidence.py): names of the agency's own, never student data.
WITH wanted AS (
    SELECT rc.certification_id, rc.test_date, s.student_id,
           btrim(s.first_name) AS first_name, btrim(s.last_name) AS last_name,
           lower(btrim(s.email)) AS email,
           upper(btrim(rc.assessment_code)) AS assessment_code,
           btrim(rc.program_code) AS program_code, btrim(rc.site_code) AS site_code
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
       shared.email IS NOT NULL AS email_shared,
       w.assessment_code, aa.name, w.program_code, p.name, w.site_code, site.name
FROM wanted w
LEFT JOIN shared USING (email)
LEFT JOIN ctims.approved_assessments aa
  ON upper(btrim(aa.assessment_code)) = w.assessment_code
LEFT JOIN ctims.programs p ON btrim(p.program_code) = w.program_code
LEFT JOIN ctims.sites site ON btrim(site.site_code) = w.site_code;
