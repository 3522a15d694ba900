"""What Credly calls may write to a log: no query string (a lookup's holds an email) and no
badge id in a path (a badge's public page names its earner), urllib3's own lines included."""

from __future__ import annotations

import logging
import re

_QUERY = re.compile(r"\?\S*")
# A badge's id in a path (…/badges/<id>/revoke); not the list itself (…/badges?filter=…).
_BADGE_ID = re.compile(r"(/badges/)[^/?#\s\"']+")


def redacted(text: str) -> str:
    """A URL or request line fit for a log: no query string (a lookup's holds an email) and
    no badge id in the path (a badge's public page names its earner)."""
    return _BADGE_ID.sub(r"\1…", _QUERY.sub("?…", text))


class _RedactRequestLines(logging.Filter):
    """Redact urllib3's request lines (`redacted`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redacted(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def install_redaction() -> None:
    """Keep earners' emails and badge ids out of urllib3's DEBUG request lines (idempotent)."""
    # urllib3 logs every request line, query and path included, at DEBUG; a worker run at
    # DEBUG would otherwise write earners' emails and badge ids into the task log.
    pool_log = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactRequestLines) for f in pool_log.filters):
        pool_log.addFilter(_RedactRequestLines())
