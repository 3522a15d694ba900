"""Scan what a run leaves behind (logs, XCom, audit, errors, mail) for student data, the
token and Credly badge ids.

A Credly badge id is personal data too: the badge's public page names its earner. The ledger
keeps them (issuance.credly_badge_id, revocation's ids, and the audit detail's
`replacement_badge_id`: LEDGER_BADGE_ID_KEYS), as it keeps student ids; anything else a run
writes — task logs, XCom, exception texts (last_error, task_failure), reports, mail — must
name a badge by the ledger's surrogate (`issuance#<id>`, `revocation#<id>`) only.
"""

from __future__ import annotations

import email
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from devstack.mail_sink import messages

# The audit detail keys that hold a Credly badge id by design (badging.lifecycle's replaced
# event): the ledger's own record, not a leak. Any other place a badge id appears is one.
LEDGER_BADGE_ID_KEYS = frozenset({"replacement_badge_id"})


def _any_of(values: Iterable[str], flags: int = 0, before: str = "",
            after: str = "") -> re.Pattern[str]:
    body = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)) or "(?!)"
    return re.compile(f"{before}(?:{body}){after}", flags)


@dataclass(frozen=True)
class Secrets:
    """What must never be written anywhere a run leaves text: one pattern per kind."""

    patterns: dict[str, re.Pattern[str]]

    @classmethod
    def of(cls, stack) -> Secrets:
        """The seeded students' emails, full names and raw ids, the Credly token, and every
        Credly badge id the ledger holds (issued, revoked and replacement badges)."""
        with psycopg.connect(stack.dsn("ctims")) as conn:
            students = conn.execute(
                "SELECT student_id, first_name, last_name, email FROM ctims.students").fetchall()
        with psycopg.connect(stack.dsn("badging")) as conn:
            badge_ids = {row[0] for row in conn.execute("""
                SELECT credly_badge_id FROM badging.issuance
                UNION SELECT credly_badge_id FROM badging.revocation
                UNION SELECT replacement_badge_id FROM badging.revocation""") if row[0]}
        emails = {e.strip() for *_, e in students if e and "@" in e}
        names = {f"{f.strip()} {last.strip()}" for _, f, last, _ in students if f and last}
        ids = {str(sid) for sid, *_ in students}
        token = json.loads(stack.paths.secrets_file.read_text())["credly_token"]
        return cls.of_values(emails=emails, names=names, ids=ids, token=token,
                             badge_ids=badge_ids)

    @classmethod
    def of_values(cls, *, emails: Iterable[str], names: Iterable[str], ids: Iterable[str],
                  token: str, badge_ids: Iterable[str]) -> Secrets:
        # Ids are 7-9 digits: only a whole number counts, not part of a longer number, a
        # timestamp's fraction, a version string or a hex identifier (about one uuid4 in
        # 20,000 holds a seeded id between two letters; a fault run logs tens of thousands).
        return cls({"email": _any_of(emails, re.IGNORECASE),
                    "name": _any_of(names, re.IGNORECASE),
                    "student_id": _any_of(ids, before=r"(?<![0-9A-Fa-f.])",
                                          after=r"(?![0-9A-Fa-f.])"),
                    "credly_token": _any_of({token}),
                    "credly_badge_id": _any_of(badge_ids, re.IGNORECASE)})

    def leaks(self, sources: Iterable[tuple[str, str]]) -> list[str]:
        """Where each kind was found, as "where: kind (count)"; never the value itself."""
        found = []
        for where, text in sources:
            for kind, pattern in self.patterns.items():
                hits = len(pattern.findall(text))
                if hits:
                    found.append(f"{where}: {kind} ({hits})")
        return found


def files(root: Path) -> Iterator[tuple[str, str]]:
    """Every file under root (task logs, reports), as (path, text)."""
    if root.exists():
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            yield str(path), path.read_text(errors="replace")


def mails(root: Path) -> Iterator[tuple[str, str]]:
    """Every message in the SMTP sink as its headers and decoded text parts (the raw .eml is
    base64 or quoted-printable, in which no pattern is found)."""
    for path in messages(root):
        message = email.message_from_bytes(path.read_bytes())
        parts = [f"{key}: {value}" for key, value in message.items()]
        parts += [part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
                  for part in message.walk() if part.get_content_maintype() == "text"]
        yield f"mail {path.name}", "\n".join(parts)


def airflow_records(stack) -> Iterator[tuple[str, str]]:
    """XCom values and whatever else Airflow stored about the runs' tasks."""
    with psycopg.connect(stack.dsn("airflow")) as conn:
        for task_id, map_index, key, value in conn.execute(
                "SELECT task_id, map_index, key, value::text FROM xcom"):
            yield f"xcom {task_id}[{map_index}].{key}", value or ""
        for task_id, map_index, fields in conn.execute(
                "SELECT task_id, map_index, rendered_fields::text "
                "FROM rendered_task_instance_fields"):
            yield f"rendered fields {task_id}[{map_index}]", fields or ""


def badging_records(stack) -> Iterator[tuple[str, str]]:
    """The error text and audit details the pipeline keeps (exception messages included);
    the audit detail without its LEDGER_BADGE_ID_KEYS."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        for event, reason, detail in conn.execute(
                "SELECT event, reason, detail FROM badging.audit_log"):
            kept = {k: v for k, v in detail.items() if k not in LEDGER_BADGE_ID_KEYS}
            yield f"audit_log {event}", f"{reason or ''} {json.dumps(kept)}"
        for table in ("issuance", "revocation"):
            for (error,) in conn.execute(
                    # Table names from the tuple above, never from data.
                    f"SELECT last_error FROM badging.{table} "  # noqa: S608
                    "WHERE last_error IS NOT NULL"):
                yield f"{table}.last_error", error
        for (reason,) in conn.execute("SELECT reason FROM badging.task_failure"):
            yield "task_failure.reason", reason
        for (summary,) in conn.execute("SELECT row_to_json(r)::text FROM badging.run_summary r"):
            yield "run_summary", summary
