-- A CSV download's statement runs as long as its rows take to send (COPY streams them as
-- the client reads), not an interactive wait: 10 minutes instead of the console's 15 s, for
-- this transaction only.
SELECT set_config('statement_timeout', '10min', true);
