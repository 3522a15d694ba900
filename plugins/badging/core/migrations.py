"""Apply include/sql/core/migrations/<component>/NNN_*.sql once each, in order, recorded per
database.

Run as `python -m badging.core.migrations badging <conn id or DSN>` in a deployment.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys

from badging.core import db, sql

log = logging.getLogger(__name__)

# Any constant works: it only has to be the same for every process migrating this database.
_ADVISORY_LOCK_KEY = 0x0B4D6E

# Comments corrected after release (like Liquibase's validCheckSum): the checksum a database
# recorded for the earlier text stays valid while the file's statements — its text without
# comments, spacing folded — still have the digest listed with it. Only for comment edits:
# a changed statement is a new migration, and with it the digest no longer matches.
# {(component, name): {checksum of the earlier text: statements_digest of both texts}}
EARLIER_CHECKSUMS = {
    # Issue 18: docs/ cited, claimed_by's real format, the purge statement's path.
    # Issue 16: claimed_by names the try and is renewed.
    ("badging", "001_ledger.sql"): {
        "617ba5f449307ece57db73265ef167129f58519c47e85594fb45a90095e2d1e4":
            "3e8cb47c09481df36a77d2db2334b860d76ce6c3c329a637b2db037a21f3713e",
        "2fe78c65a45d4aeb0d7aac26a9d3c1298a886440b57ad61350c249631fbaa654":
            "3e8cb47c09481df36a77d2db2334b860d76ce6c3c329a637b2db037a21f3713e",
    },
    # Issue 18: docs/ cited.
    ("ctims", "001_ctims_model.sql"): {
        "7f20ad89bb41c28c845e254aade4fd9addb9dae1448e38a7d418c30ef50f8e5e":
            "8bfe5a337d4d2ac458778aa118ac400ff69a013ca47cf892f4f851177653731f",
    },
}
# A string literal (kept) or a comment to the end of the line (dropped).
_LITERAL_OR_COMMENT = re.compile(r"'(?:[^']|'')*'|--[^\n]*")


def statements_digest(text: str) -> str:
    """SHA-256 of a migration's statements: comments dropped, runs of white space folded."""
    statements = _LITERAL_OR_COMMENT.sub(
        lambda m: m.group() if m.group().startswith("'") else "", text)
    return hashlib.sha256(" ".join(statements.split()).encode()).hexdigest()


def _still_valid(component: str, name: str, recorded: str, text: str) -> bool:
    """True if `recorded` is the checksum of an earlier text that differed in comments only."""
    digest = EARLIER_CHECKSUMS.get((component, name), {}).get(recorded)
    return digest is not None and digest == statements_digest(text)


def migration_names(component: str) -> list[str]:
    """The migration files of a component ("ctims" or "badging"), in apply order."""
    folder = sql.include_dir() / "sql" / "core" / "migrations" / component
    return sorted(p.name for p in folder.glob("[0-9][0-9][0-9]_*.sql"))


def apply(conn_id_or_dsn: str, component: str) -> list[str]:
    """Apply the component's pending migrations; returns the names applied (empty if none).

    Concurrent callers serialise on an advisory lock, so two workers starting at once
    cannot both apply the same file. A file that changed after it was applied is an error:
    migrations are append-only (comment corrections listed in EARLIER_CHECKSUMS aside).

    Raises:
        RuntimeError: an applied migration's text changed since.
    """
    applied_now: list[str] = []
    # No statement or lock timeout: the advisory lock waits for another migrator however
    # long its migration takes (db.MIGRATION_BOUNDS).
    with db.connect(conn_id_or_dsn, bounds=db.MIGRATION_BOUNDS) as conn:
        db.execute(conn, "core/migrations/lock.sql", {"key": _ADVISORY_LOCK_KEY})
        db.execute(conn, "core/migrations/schema_migrations.sql")
        done = dict(db.execute(conn, "core/migrations/applied.sql", {"component": component}))
        for name in migration_names(component):
            text = sql.load(f"core/migrations/{component}/{name}")
            checksum = hashlib.sha256(text.encode()).hexdigest()
            if name in done:
                if done[name] != checksum and not _still_valid(component, name, done[name],
                                                               text):
                    raise RuntimeError(f"migration {component}/{name} changed after it was applied")
                continue
            conn.execute(text)
            db.execute(conn, "core/migrations/record.sql",
                       {"component": component, "name": name, "checksum": checksum})
            applied_now.append(name)
    for name in applied_now:
        log.info("applied migration %s/%s", component, name)
    return applied_now


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    if len(sys.argv) != 3:
        sys.exit("usage: python -m badging.core.migrations <ctims|badging> <conn id or DSN>")
    apply(sys.argv[2], sys.argv[1])
