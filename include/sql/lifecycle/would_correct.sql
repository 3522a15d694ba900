-- A dry run or a backfill changes no badge: it audits the corrections it would make, once
-- per run and badge (would_move for a corrected address, else would_replace).
WITH would AS (
    SELECT i.issuance_id, i.certification_id,
           CASE WHEN n.recipient_digest <> i.recipient_digest THEN 'would_move'
                ELSE 'would_replace' END AS event,
           CASE WHEN n.recipient_digest <> i.recipient_digest THEN 'email_corrected'
                ELSE 'name_corrected' END AS reason
    FROM badging.issuance i
    JOIN recipient_now n ON n.issuance_id = i.issuance_id
    WHERE i.state = 'issued'
      AND (n.recipient_digest <> i.recipient_digest OR n.name_digest <> i.name_digest)
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, reason)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       w.certification_id, w.issuance_id, w.event, w.reason
FROM would w
WHERE NOT EXISTS (SELECT 1 FROM badging.audit_log a
                  WHERE a.run_id = %(run_id)s AND a.issuance_id = w.issuance_id
                    AND a.event IN ('would_move', 'would_replace'));
