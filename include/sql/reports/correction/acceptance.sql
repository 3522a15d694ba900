-- Acceptance per site, program and assessment (view badging.acceptance, migration 008),
-- for the correction report's site sections; codes and counts only.
SELECT site_code, program_code, assessment_code, badges, accepted, pending, rejected, gone,
       acceptance_rate, median_days_to_accept
FROM badging.acceptance
ORDER BY site_code, program_code, assessment_code;
