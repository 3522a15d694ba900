-- What one run's check saw (badging.badge_check): the counts, the census, whether it was a
-- night of the check, and why it may not change badges (NULL: it may); full or incremental,
-- the students and buckets of entries it read (NULL: all), and CTIMS's clock when it began.
INSERT INTO badging.badge_check (run_id, logical_date, live_rows, live_badges, unjustified,
                                 blocked, census, counted, accepted_by, full_check,
                                 students_checked, buckets_read, source_time)
VALUES (%(run_id)s, %(logical_date)s, %(live_rows)s, %(live_badges)s, %(unjustified)s,
        %(blocked)s, %(census)s, %(counted)s, %(accepted_by)s, %(full_check)s,
        %(students_checked)s, %(buckets_read)s, %(source_time)s)
ON CONFLICT (run_id) DO UPDATE SET
    logical_date = EXCLUDED.logical_date, live_rows = EXCLUDED.live_rows,
    live_badges = EXCLUDED.live_badges, unjustified = EXCLUDED.unjustified,
    blocked = EXCLUDED.blocked, census = EXCLUDED.census, counted = EXCLUDED.counted,
    accepted_by = EXCLUDED.accepted_by, full_check = EXCLUDED.full_check,
    students_checked = EXCLUDED.students_checked, buckets_read = EXCLUDED.buckets_read,
    source_time = EXCLUDED.source_time,
    checked_at = now();
