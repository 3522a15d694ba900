-- Lists not sent yet: this run's new ones and earlier runs' failed deliveries, oldest first.
SELECT site_list_id
FROM badging.site_list
WHERE delivery IN ('pending', 'failed') AND attempts < %(max_attempts)s
ORDER BY site_list_id
