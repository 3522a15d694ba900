-- Forgets how the taken badges were counted, remembering the keys they were counted under.
WITH gone AS (
    DELETE FROM badging.outcome_badge
    WHERE issuance_id = ANY(%(issuance_ids)s)
    RETURNING school_year, issued_month, site_code, program_code, assessment_code
)
INSERT INTO outcome_touched
SELECT DISTINCT school_year, issued_month, site_code, program_code, assessment_code FROM gone;
