-- What Credly's template list said of each template's default expiry (NULL: none), when.
INSERT INTO badging.credly_template (credly_template_id, expires_in_days, read_at)
SELECT * FROM unnest(%(template_ids)s::text[], %(expires_in_days)s::integer[])
              AS t(credly_template_id, expires_in_days),
         (SELECT %(read_at)s::timestamptz) AS r(read_at)
ON CONFLICT (credly_template_id) DO UPDATE
SET expires_in_days = EXCLUDED.expires_in_days, read_at = EXCLUDED.read_at;
