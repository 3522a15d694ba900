-- Records the matched badges as issued by Credly before the pipeline (docs/history-load.md),
-- each with its `adopted` audit row, and takes them out of the run's batches. Only a row
-- still pending is adopted (an issue try of another run may have claimed it since the list
-- was read: that try looks it up in Credly), and only a Credly badge no other row holds.
WITH adopted AS (
    UPDATE badging.issuance i
    SET state           = 'issued',
        credly_badge_id = a.credly_badge_id,
        issued_run_id   = %(issuing_run)s,
        issued_at       = coalesce(a.issued_at, now()),
        adopted_at      = now(),
        expires_at      = a.expires_at,
        last_error      = NULL,
        updated_at      = now()
    FROM adopted_badge a
    WHERE i.issuance_id = a.issuance_id
      AND i.state = 'pending'
      AND NOT EXISTS (SELECT 1 FROM badging.issuance held
                      WHERE held.credly_badge_id = a.credly_badge_id)
    RETURNING i.issuance_id, i.certification_id, a.matched_by
),
unbatched AS (
    DELETE FROM badging.run_batch b
    USING adopted
    WHERE b.run_id = %(run_id)s
      AND b.issuance_id = adopted.issuance_id
    RETURNING b.issuance_id, b.swept
)
INSERT INTO badging.audit_log (run_id, logical_date, task_id, map_index, try_number,
                               certification_id, issuance_id, event, detail)
SELECT %(run_id)s, %(logical_date)s, %(task_id)s, %(map_index)s, %(try_number)s,
       adopted.certification_id, adopted.issuance_id, 'adopted',
       jsonb_build_object('matched_by', adopted.matched_by)
       -- Planned by another run: not part of this run's story (pipeline/report/terminal_counts.sql).
       || CASE WHEN unbatched.swept THEN '{"swept": true}'::jsonb ELSE '{}'::jsonb END
FROM adopted
JOIN unbatched USING (issuance_id)
RETURNING detail ->> 'matched_by';
