SELECT
    count(*)                                                   AS staged,
    count(*) FILTER (WHERE s.decision = 'planned')             AS planned,
    count(*) FILTER (WHERE s.decision = 'planned'
                       AND i.state IN ('pending', 'in_flight')) AS still_pending
FROM badging.staged_certification s
LEFT JOIN badging.issuance i ON i.issuance_id = s.issuance_id
WHERE s.run_id = %(run_id)s;
