-- CTIMS's programs, with the CIP code whose family is the program's career cluster.
INSERT INTO badging.ctims_program AS c (program_code, name, cip_code, site_code, seen_at)
SELECT code, name, cip_code, site_code, %(seen_at)s
FROM unnest(%(codes)s::text[], %(names)s::text[], %(cip_codes)s::text[],
            %(site_codes)s::text[]) AS t(code, name, cip_code, site_code)
ON CONFLICT (program_code) DO UPDATE
SET name = EXCLUDED.name, cip_code = EXCLUDED.cip_code, site_code = EXCLUDED.site_code,
    seen_at = EXCLUDED.seen_at;
