-- Every staged row of the run starts undecided, except the ones validation quarantined.
UPDATE badging.staged_certification s
SET decision = CASE WHEN EXISTS (
                   SELECT 1 FROM badging.quarantine q
                   WHERE q.run_id = s.run_id AND q.certification_id = s.certification_id)
               THEN 'quarantined' END,
    reason = NULL,
    issuance_id = NULL
WHERE s.run_id = %(run_id)s;
