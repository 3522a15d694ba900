SELECT name, checksum FROM public.schema_migrations WHERE component = %(component)s;
