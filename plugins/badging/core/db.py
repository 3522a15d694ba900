"""Postgres connections for the pipeline, made from Airflow connections or plain DSNs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

CTIMS_CONN_ID = "ctims_db"
BADGING_CONN_ID = "badging_db"


@dataclass(frozen=True)
class SessionBounds:
    """The server-side limits of a session; "0" means none (Postgres's own default).

    Attributes:
        statement_timeout: longest one statement may run.
        lock_timeout: longest one statement may wait for a lock (row, table or advisory).
        idle_in_transaction_timeout: longest a session may sit in an open transaction
            doing nothing; ends a hung holder's locks instead of leaving them held.
    """

    statement_timeout: str
    lock_timeout: str
    idle_in_transaction_timeout: str

    def options(self) -> str:
        """The libpq `options` string that sets these at connect time."""
        return (f"-c statement_timeout={self.statement_timeout} "
                f"-c lock_timeout={self.lock_timeout} "
                f"-c idle_in_transaction_session_timeout={self.idle_in_transaction_timeout}")


# Every task's sessions (issue 16: no wait without a bound, so a black-holed database or a
# held lock fails the task, whose retry takes the work again, instead of holding a worker and
# a pool slot forever). Measured at 200,000 rows (docs/performance.md): the extract's whole
# COPY stream 3 s, plan's longest statement a few seconds, validate's GX run (an open
# transaction, idle while pandas works) 23 s. So:
# - statement 10 min: 100× the longest statement measured, still well inside a task's life;
# - lock 1 min: legitimate waits are short transactions of other runs (a claim is one
#   statement; an overlapping run's plan holds inserted keys for seconds); a minute is many
#   of those, and a forgotten psql session or a hung worker holding a row is found in one;
# - idle in transaction 10 min: far beyond validate's 23 s of pandas inside its transaction.
PIPELINE_BOUNDS = SessionBounds(statement_timeout="10min", lock_timeout="1min",
                                idle_in_transaction_timeout="10min")
# Migrations wait on an advisory lock for another migrator however long its migration takes
# (core/migrations/lock.sql: lock_timeout covers advisory locks too), and a migration of a large
# table may run long. They run at deploy time by a person, not in a task's pool slot; the
# network bounds below still apply.
MIGRATION_BOUNDS = SessionBounds(statement_timeout="0", lock_timeout="0",
                                 idle_in_transaction_timeout="0")

# Network bounds, libpq keywords. connect 10 s: a black-holed host fails in 10 s instead of
# the kernel's two minutes of SYN retries. Keepalives: a peer silent for 30 s is probed every
# 10 s and dropped after 3 unanswered probes (about a minute), so a vanished server or a
# dropped NAT entry ends a wait for a result; tcp_user_timeout bounds data sent but never
# acknowledged the same way (keepalives only probe an idle socket).
NETWORK_BOUNDS = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
    "tcp_user_timeout": "60000",
}
# Text travels as UTF-8 on every session whatever the database's or role's default (a
# LATIN1 default would hand psycopg, or a COPY stream, bytes it reads as something else).
CLIENT_ENCODING = "UTF8"
# "Send the bytes as stored": Postgres converts nothing for a SQL_ASCII client. The extract
# reads CTIMS this way and decodes the bytes as UTF-8 itself (extract.Utf8Lines), because a
# UTF8 client of a SQL_ASCII database gets an error for the whole stream at the first byte
# that is not UTF-8.
RAW_BYTES = "SQL_ASCII"


def dsn_from_airflow(conn_id: str) -> str:
    """Build a libpq connection string from an Airflow connection (Postgres type).

    Raises:
        ConfigurationError: the connection lacks a host or database.
    """
    from airflow.sdk import BaseHook
    from psycopg.conninfo import make_conninfo

    from badging.core.errors import ConfigurationError

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


# Connection extras passed through to libpq (TLS settings, the bounds above, and the like).
# An extra overrides the bound of the same name; `options` is appended to the bounds' own, so
# `"options": "-c statement_timeout=30min"` lengthens that one limit.
_LIBPQ_EXTRAS = frozenset({
    "sslmode", "sslrootcert", "sslcert", "sslkey", "application_name",
    "target_session_attrs", "options", *NETWORK_BOUNDS,
})


def resolve_dsn(conn_id_or_dsn: str) -> str:
    """Accept either an Airflow connection id or a DSN ("postgresql://…", "host=…")."""
    if "://" in conn_id_or_dsn or "=" in conn_id_or_dsn:
        return conn_id_or_dsn
    return dsn_from_airflow(conn_id_or_dsn)


def bounded_conninfo(conn_id_or_dsn: str, *, read_only: bool = False,
                     bounds: SessionBounds = PIPELINE_BOUNDS,
                     application_name: str = "credly_badging",
                     client_encoding: str = CLIENT_ENCODING) -> str:
    """The connection string every pipeline session uses: the DSN with the bounds added.

    What the DSN (or the Airflow connection's extras) sets itself wins: a network keyword
    replaces the default, and its `options` come after the bounds' `-c` settings, so a later
    `-c` of the same name wins. The client encoding and read-only are not overridable.

    Args:
        conn_id_or_dsn: an Airflow connection id or a DSN.
        read_only: start every transaction READ ONLY (the CTIMS source is never written).
        bounds: the server-side limits (PIPELINE_BOUNDS; MIGRATION_BOUNDS for migrations).
        application_name: shown in pg_stat_activity, unless the DSN names one.
        client_encoding: CLIENT_ENCODING, or RAW_BYTES for a session that decodes itself.

    Returns:
        A libpq connection string for psycopg.connect.
    """
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(resolve_dsn(conn_id_or_dsn))
    options = [bounds.options(), params.get("options")]
    if read_only:
        options.append("-c default_transaction_read_only=on")
    params = NETWORK_BOUNDS | {"application_name": application_name} | params | {
        "options": " ".join(str(o) for o in options if o),
        "client_encoding": client_encoding,
    }
    return make_conninfo(**params)


@contextmanager
def connect(conn_id_or_dsn: str, *, read_only: bool = False,
            bounds: SessionBounds = PIPELINE_BOUNDS,
            client_encoding: str = CLIENT_ENCODING) -> Iterator[psycopg.Connection]:
    """Open a bounded connection that commits on a clean exit and rolls back on an exception.

    Args:
        conn_id_or_dsn: an Airflow connection id or a DSN.
        read_only: start every transaction READ ONLY (the CTIMS source is never written).
        bounds: the server-side limits (see bounded_conninfo).
        client_encoding: CLIENT_ENCODING, or RAW_BYTES (see bounded_conninfo).
    """
    with psycopg.connect(bounded_conninfo(conn_id_or_dsn, read_only=read_only, bounds=bounds,
                                          client_encoding=client_encoding)) as conn:
        yield conn


def execute(conn: psycopg.Connection, name: str,
            params: dict | tuple | None = None) -> psycopg.Cursor:
    """Run the statement in include/sql/<name> with bound parameters; returns the cursor."""
    from badging.core import sql

    return conn.execute(sql.load(name), params)
