-- CTIMS's sites as the report task last read them (outcomes/ctims_reference.sql).
INSERT INTO badging.ctims_site AS c (site_code, name, seen_at)
SELECT code, name, %(seen_at)s
FROM unnest(%(codes)s::text[], %(names)s::text[]) AS t(code, name)
ON CONFLICT (site_code) DO UPDATE SET name = EXCLUDED.name, seen_at = EXCLUDED.seen_at;
