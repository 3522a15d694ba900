"""Apply include/sql/migrations/<component>/NNN_*.sql once each, in order, recorded per database.

Run as `python -m badging.migrations badging <conn id or DSN>` in a deployment.
"""

from __future__ import annotations

import hashlib
import logging
import sys

from badging import db, sql

log = logging.getLogger(__name__)

# Any constant works: it only has to be the same for every process migrating this database.
_ADVISORY_LOCK_KEY = 0x0B4D6E


def migration_names(component: str) -> list[str]:
    """The migration files of a component ("ctims" or "badging"), in apply order."""
    folder = sql.include_dir() / "sql" / "migrations" / component
    return sorted(p.name for p in folder.glob("[0-9][0-9][0-9]_*.sql"))


def apply(conn_id_or_dsn: str, component: str) -> list[str]:
    """Apply the component's pending migrations; returns the names applied (empty if none).

    Concurrent callers serialise on an advisory lock, so two workers starting at once
    cannot both apply the same file. A file that changed after it was applied is an error:
    migrations are append-only.

    Raises:
        RuntimeError: an applied migration's text changed since.
    """
    applied_now: list[str] = []
    with db.connect(conn_id_or_dsn) as conn:
        db.execute(conn, "migrations/lock.sql", {"key": _ADVISORY_LOCK_KEY})
        db.execute(conn, "migrations/schema_migrations.sql")
        done = dict(db.execute(conn, "migrations/applied.sql", {"component": component}))
        for name in migration_names(component):
            text = sql.load(f"migrations/{component}/{name}")
            checksum = hashlib.sha256(text.encode()).hexdigest()
            if name in done:
                if done[name] != checksum:
                    raise RuntimeError(f"migration {component}/{name} changed after it was applied")
                continue
            conn.execute(text)
            db.execute(conn, "migrations/record.sql",
                       {"component": component, "name": name, "checksum": checksum})
            applied_now.append(name)
    for name in applied_now:
        log.info("applied migration %s/%s", component, name)
    return applied_now


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    if len(sys.argv) != 3:
        sys.exit("usage: python -m badging.migrations <ctims|badging> <conn id or DSN>")
    apply(sys.argv[2], sys.argv[1])
