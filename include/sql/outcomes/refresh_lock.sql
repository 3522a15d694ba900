-- One refresh of the outcome summary at a time (two reports of overlapping runs would
-- recompute the same keys); held until the chunk's transaction ends.
SELECT pg_advisory_xact_lock(%(key)s);
