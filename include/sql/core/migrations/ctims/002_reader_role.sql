-- The pipeline reads CTIMS through this role only: it can select and nothing else.
-- (In production the agency's DBA owns this; devstack applies it so the local stack
-- exercises the same privilege boundary.)
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ctims_reader') THEN
        CREATE ROLE ctims_reader LOGIN;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO ctims_reader', current_database());
END
$$;

GRANT USAGE ON SCHEMA ctims TO ctims_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA ctims TO ctims_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA ctims GRANT SELECT ON TABLES TO ctims_reader;
ALTER ROLE ctims_reader SET default_transaction_read_only = on;
