INSERT INTO public.schema_migrations (component, name, checksum)
VALUES (%(component)s, %(name)s, %(checksum)s);
