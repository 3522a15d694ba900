-- Which migration files this database has applied (see plugins/badging/migrations.py).
CREATE TABLE IF NOT EXISTS public.schema_migrations (
    component  text        NOT NULL,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, name)
);
