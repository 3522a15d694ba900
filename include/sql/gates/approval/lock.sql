-- One check of a gate at a time across runs (approval.gate_lock): a session lock, released
-- by unlock.sql or when the task's connection closes.
SELECT pg_advisory_lock(hashtext(%(name)s));
