"""Postgres connections for the pipeline, made from Airflow connections or plain DSNs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

CTIMS_CONN_ID = "ctims_db"
BADGING_CONN_ID = "badging_db"


def dsn_from_airflow(conn_id: str) -> str:
    """Build a libpq connection string from an Airflow connection (Postgres type).

    Raises:
        ConfigurationError: the connection lacks a host or database.
    """
    from airflow.sdk import BaseHook
    from psycopg.conninfo import make_conninfo

    from badging.errors import ConfigurationError

    conn = BaseHook.get_connection(conn_id)
    if not conn.host or not conn.schema:
        raise ConfigurationError(f"connection {conn_id!r} needs a host and a database (schema)")
    libpq_options = {k: v for k, v in conn.extra_dejson.items() if k in _LIBPQ_EXTRAS}
    return make_conninfo(
        host=conn.host,
        port=conn.port or 5432,
        dbname=conn.schema,
        user=conn.login or None,
        password=conn.password or None,
        **libpq_options,
    )


# Connection extras passed through to libpq (TLS settings and the like).
_LIBPQ_EXTRAS = frozenset({
    "sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name",
    "target_session_attrs", "options",
})


def resolve_dsn(conn_id_or_dsn: str) -> str:
    """Accept either an Airflow connection id or a DSN ("postgresql://…", "host=…")."""
    if "://" in conn_id_or_dsn or "=" in conn_id_or_dsn:
        return conn_id_or_dsn
    return dsn_from_airflow(conn_id_or_dsn)


@contextmanager
def connect(conn_id_or_dsn: str, *, read_only: bool = False) -> Iterator[psycopg.Connection]:
    """Open a connection that commits on a clean exit and rolls back on an exception.

    Args:
        conn_id_or_dsn: an Airflow connection id or a DSN.
        read_only: start every transaction READ ONLY (the CTIMS source is never written).
    """
    options = "-c default_transaction_read_only=on" if read_only else None
    with psycopg.connect(resolve_dsn(conn_id_or_dsn), options=options,
                         application_name="credly_badging") as conn:
        yield conn


def execute(conn: psycopg.Connection, name: str,
            params: dict | tuple | None = None) -> psycopg.Cursor:
    """Run the statement in include/sql/<name> with bound parameters; returns the cursor."""
    from badging import sql

    return conn.execute(sql.load(name), params)
