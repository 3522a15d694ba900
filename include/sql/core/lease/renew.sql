-- The fence before a Credly write: renews this attempt's claim if it still holds it (same
-- holder, same attempt). False means the claim was taken over: do not call.
SELECT badging.renew_lease(%(subject)s, %(subject_id)s, %(holder)s, %(attempt)s);
