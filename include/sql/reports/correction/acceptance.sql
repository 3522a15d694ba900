-- Acceptance per site, program and assessment (view badging.acceptance, migrations 008 and
-- 013), for the correction report's site sections; codes and counts only. Expired badges are
-- counted apart (and left out of the rate).
SELECT site_code, program_code, assessment_code, badges, accepted, pending, rejected, gone,
       acceptance_rate, median_days_to_accept, expired
FROM badging.acceptance
ORDER BY site_code, program_code, assessment_code;
