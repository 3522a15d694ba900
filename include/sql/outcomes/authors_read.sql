-- The badges whose certification's author was just copied (outcomes/copy_authors.sql).
UPDATE badging.outcome_badge
SET author_read = true
WHERE NOT author_read AND certification_id = ANY(%(certification_ids)s);
