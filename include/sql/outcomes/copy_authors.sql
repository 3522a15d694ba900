-- Who entered each certification (outcomes/ctims_authors.sql); a certification CTIMS no
-- longer has is recorded without an author, so it is not asked for again.
INSERT INTO badging.entry_author AS a (certification_id, entered_by, read_at)
SELECT certification_id, entered_by, %(read_at)s
FROM unnest(%(certification_ids)s::bigint[], %(entered_by)s::text[])
     AS t(certification_id, entered_by)
ON CONFLICT (certification_id) DO UPDATE
SET entered_by = coalesce(EXCLUDED.entered_by, a.entered_by), read_at = EXCLUDED.read_at;
