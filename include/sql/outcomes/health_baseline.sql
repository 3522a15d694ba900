-- Whether an earlier report judged the templates already: the first judgement is the
-- baseline (recorded, not mailed), later ones mail what is new.
SELECT EXISTS (SELECT 1 FROM badging.credly_health WHERE run_id <> %(run_id)s);
