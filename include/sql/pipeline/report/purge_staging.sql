-- Staged rows hold recipient details: keep them only as long as a retry may need them.
DELETE FROM badging.staged_certification
WHERE staged_at < now() - make_interval(days => %(retention_days)s);
