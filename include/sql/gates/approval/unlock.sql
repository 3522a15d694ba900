SELECT pg_advisory_unlock(hashtext(%(name)s));
