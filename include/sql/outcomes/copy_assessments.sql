-- CTIMS's approved assessments. An assessment the copy knew unbadged by its vendor that the
-- vendor badges now gets vendor_badge_since (the template health's vendor_badges finding);
-- one badged again by the agency only loses it.
INSERT INTO badging.ctims_assessment AS c (assessment_code, name, vendor, vendor_issues_badge,
                                           approved_from, approved_to, seen_at)
SELECT code, name, vendor, vendor_issues_badge, approved_from, approved_to, %(seen_at)s
FROM unnest(%(codes)s::text[], %(names)s::text[], %(vendors)s::text[],
            %(vendor_issues_badge)s::boolean[], %(approved_from)s::date[],
            %(approved_to)s::date[])
     AS t(code, name, vendor, vendor_issues_badge, approved_from, approved_to)
ON CONFLICT (assessment_code) DO UPDATE
SET name = EXCLUDED.name, vendor = EXCLUDED.vendor,
    vendor_issues_badge = EXCLUDED.vendor_issues_badge,
    vendor_badge_since = CASE
        WHEN NOT EXCLUDED.vendor_issues_badge THEN NULL
        WHEN NOT c.vendor_issues_badge THEN EXCLUDED.seen_at
        ELSE c.vendor_badge_since END,
    approved_from = EXCLUDED.approved_from, approved_to = EXCLUDED.approved_to,
    seen_at = EXCLUDED.seen_at;
