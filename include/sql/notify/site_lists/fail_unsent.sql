-- The relay could not be reached: each due list records the attempt, for the next run.
UPDATE badging.site_list
SET delivery = 'failed', attempts = attempts + 1, last_error = %(error)s
WHERE site_list_id = ANY(%(site_list_ids)s) AND delivery IN ('pending', 'failed')
