INSERT INTO badging.badge_check (run_id, logical_date, live_rows, live_badges, unjustified,
                                 blocked)
VALUES (%(run_id)s, %(logical_date)s, %(live_rows)s, %(live_badges)s, %(unjustified)s,
        %(blocked)s)
ON CONFLICT (run_id) DO UPDATE SET
    logical_date = EXCLUDED.logical_date, live_rows = EXCLUDED.live_rows,
    live_badges = EXCLUDED.live_badges, unjustified = EXCLUDED.unjustified,
    blocked = EXCLUDED.blocked, checked_at = now();
