-- Who entered these certifications (copied from CTIMS by the report task).
SELECT certification_id, entered_by FROM badging.entry_author
WHERE certification_id = ANY(%(certification_ids)s);
