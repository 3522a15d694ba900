"""The console's read-only sessions on the badging database, short-bounded."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from badging.core import db

log = logging.getLogger(__name__)

# A page waits seconds, not the pipeline's minutes: an operator is looking at it, and the API
# server's worker is held while the statement runs.
CONSOLE_BOUNDS = db.SessionBounds(statement_timeout="15s", lock_timeout="5s",
                                  idle_in_transaction_timeout="1min")


class ConsoleUnavailable(Exception):
    """The badging database cannot be reached or read; the page says so (HTTP 503)."""


@contextmanager
def reading(conn_id: str = db.BADGING_CONN_ID) -> Iterator[Any]:
    """A READ ONLY session on the badging database.

    Raises:
        ConsoleUnavailable: the connection is missing or the database does not answer; the
            message names the error class only (a DSN or a row never goes into it).
    """
    import psycopg
    from airflow.sdk.exceptions import AirflowNotFoundException

    from badging.core.errors import ConfigurationError

    try:
        with db.connect(conn_id, read_only=True, bounds=CONSOLE_BOUNDS) as conn:
            yield conn
    except (psycopg.OperationalError, ConfigurationError, AirflowNotFoundException) as exc:
        log.warning("badging console: badging database unavailable (%s)", type(exc).__name__)
        raise ConsoleUnavailable(f"the badging database is not reachable "
                                 f"({type(exc).__name__})") from None


@contextmanager
def writing(conn_id: str = db.BADGING_CONN_ID) -> Iterator[Any]:
    """A read-write session, for the one thing the console writes: which sites an Airflow
    user sees (the Access page; the role needs INSERT and DELETE on console_site_user).

    Raises:
        ConsoleUnavailable: as reading() does.
    """
    import psycopg
    from airflow.sdk.exceptions import AirflowNotFoundException

    from badging.core.errors import ConfigurationError

    try:
        with db.connect(conn_id, bounds=CONSOLE_BOUNDS) as conn:
            yield conn
    except (psycopg.OperationalError, psycopg.errors.InsufficientPrivilege,
            ConfigurationError, AirflowNotFoundException) as exc:
        log.warning("badging console: badging database not writable (%s)", type(exc).__name__)
        raise ConsoleUnavailable(f"the badging database is not writable for the console "
                                 f"({type(exc).__name__})") from None


def execute(conn: Any, name: str, params: dict[str, Any]) -> None:
    """Run include/sql/<name>."""
    db.execute(conn, name, params)


def rows(conn: Any, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of include/sql/<name> as dicts."""
    cursor = db.execute(conn, name, params)
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
