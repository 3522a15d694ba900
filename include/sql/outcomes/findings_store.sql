-- The template findings as this report judged them: new ones are inserted (returned with
-- `new`: the operators' alert), lasting ones touched, and those of the problems judged this
-- time that are no longer found go. Problems not judged (Credly's, when it could not be
-- read) keep their rows.
WITH found AS (
    SELECT * FROM unnest(%(problems)s::text[], %(assessment_codes)s::text[],
                         %(template_ids)s::text[], %(details)s::text[])
        AS t(problem, assessment_code, credly_template_id, detail)
),
gone AS (
    DELETE FROM badging.template_finding f
    WHERE f.problem = ANY(%(judged)s)
      AND NOT EXISTS (SELECT 1 FROM found
                      WHERE found.problem = f.problem
                        AND found.assessment_code = f.assessment_code)
)
INSERT INTO badging.template_finding AS f (problem, assessment_code, credly_template_id,
                                           detail, first_run_id, first_seen_at, last_seen_at)
SELECT problem, assessment_code, credly_template_id, detail, %(run_id)s, %(at)s, %(at)s
FROM found
ON CONFLICT (problem, assessment_code) DO UPDATE
SET credly_template_id = EXCLUDED.credly_template_id, detail = EXCLUDED.detail,
    last_seen_at = EXCLUDED.last_seen_at
-- xmax is 0 only for a row this statement inserted (an update sets it).
RETURNING problem, assessment_code, credly_template_id, detail, (xmax = 0) AS new;
