-- Counts the taken badges as the ledger has them now (docs/outcomes.md): a row issued at some
-- time and issued or revoked now is a badge; its outcome is Credly's state (pending until a
-- sync saw it), and revoked for a revoked row whoever revoked it. Its school year (July-June)
-- and month are its issue's, in the agency's time zone; days to accept are whole days from
-- the pipeline's issue to Credly's acceptance. Returns the certification ids (the authors the
-- report reads next) after remembering the keys they count under.
WITH badge AS (
    SELECT i.issuance_id, i.certification_id, i.issued_at,
           (i.issued_at AT TIME ZONE %(time_zone)s)::date AS issued_day,
           coalesce(i.site_code, '') AS site_code, coalesce(i.program_code, '') AS program_code,
           i.assessment_code, i.credly_state_changed_at,
           CASE WHEN i.state = 'revoked' THEN 'revoked'
                WHEN i.credly_state IN ('accepted', 'rejected', 'expired') THEN i.credly_state
                WHEN i.credly_state IN ('revoked', 'deleted') THEN 'revoked'
                ELSE 'pending' END AS credly_state
    FROM badging.issuance i
    WHERE i.issuance_id = ANY(%(issuance_ids)s)
      AND i.issued_at IS NOT NULL
      AND i.state IN ('issued', 'revoked')
),
added AS (
    INSERT INTO badging.outcome_badge (issuance_id, certification_id, school_year,
                                       issued_month, issued_at, site_code, program_code,
                                       assessment_code, credly_state, accepted_at,
                                       accept_days, entered_by, author_read)
    SELECT b.issuance_id, b.certification_id,
           extract(year FROM b.issued_day - interval '6 months')::smallint,
           date_trunc('month', b.issued_day)::date, b.issued_at, b.site_code, b.program_code,
           b.assessment_code, b.credly_state,
           CASE WHEN b.credly_state = 'accepted' THEN b.credly_state_changed_at END,
           CASE WHEN b.credly_state = 'accepted' THEN greatest(0, floor(
               extract(epoch FROM b.credly_state_changed_at - b.issued_at) / 86400))::int END,
           a.entered_by, a.certification_id IS NOT NULL
    FROM badge b
    LEFT JOIN badging.entry_author a ON a.certification_id = b.certification_id
    RETURNING school_year, issued_month, site_code, program_code, assessment_code
),
touched AS (
    INSERT INTO outcome_touched
    SELECT DISTINCT school_year, issued_month, site_code, program_code, assessment_code
    FROM added
)
SELECT count(*) FROM badge;
