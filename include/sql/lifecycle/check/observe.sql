-- Tonight's findings about each issued badge (docs/lifecycle.md), for advance_findings.sql:
--   unjustified        its own entries no longer earn it (cause entry);
--   needs_review       only a reference table refuses it (cause reference);
--   recipient_unknown  CTIMS names no usable recipient for it (blank or malformed);
--   recipient_changed  a new usable name or address (detail: the target digests).
CREATE TEMP TABLE badge_observed ON COMMIT DROP AS
SELECT issuance_id,
       CASE WHEN cause = 'entry' THEN 'unjustified' ELSE 'needs_review' END AS kind,
       reason AS detail, reason, site_code
FROM badge_justification
WHERE NOT justified
UNION ALL
SELECT n.issuance_id, 'recipient_unknown', n.problem, n.problem, j.site_code
FROM recipient_now n
JOIN badge_justification j ON j.issuance_id = n.issuance_id AND j.justified
WHERE n.problem IS NOT NULL
UNION ALL
SELECT n.issuance_id, 'recipient_changed', n.recipient_digest || ':' || n.name_digest,
       CASE WHEN n.recipient_digest <> i.recipient_digest THEN 'email_corrected'
            ELSE 'name_corrected' END AS reason,
       j.site_code
FROM recipient_now n
JOIN badge_justification j ON j.issuance_id = n.issuance_id AND j.justified
JOIN badging.issuance i ON i.issuance_id = n.issuance_id
WHERE n.problem IS NULL
  AND (n.recipient_digest <> i.recipient_digest OR n.name_digest <> i.name_digest);
