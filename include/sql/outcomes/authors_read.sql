-- The badges whose certification's author was just copied (outcomes/copy_authors.sql).
UPDATE badging.outcome_badge b
SET entered_by = a.entered_by, author_read = true
FROM badging.entry_author a
WHERE NOT b.author_read
  AND b.certification_id = ANY(%(certification_ids)s)
  AND a.certification_id = b.certification_id;
