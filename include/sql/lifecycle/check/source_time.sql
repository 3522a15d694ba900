-- CTIMS's own clock, for the next incremental check's "changed since".
SELECT now();
