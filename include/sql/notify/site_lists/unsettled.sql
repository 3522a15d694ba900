-- Lists that need a person: left 'sending' by a crash (sent or not, nobody knows), or
-- failed on every attempt allowed. Counted in the task's log; docs/notifications.md says what to do.
SELECT count(*) FILTER (WHERE delivery = 'sending' AND claimed_by IS DISTINCT FROM %(holder)s),
       count(*) FILTER (WHERE delivery = 'failed' AND attempts >= %(max_attempts)s)
FROM badging.site_list
