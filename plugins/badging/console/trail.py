"""The lookup: one certification's whole trail, newest first, with names and emails masked.

What each step shows and why is in docs/console.md. Student ids, names and emails are read to
be masked or dropped here; none of them is logged or put in an exception.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from badging.console import source
from badging.console.links import Links
from badging.core.constants import AGENCY_TZ, Event, State

# The ledger columns the console shows; a column added later (credly_state, credly_state_at:
# the Credly state columns planned beside this console) shows once the migration adds it.
BADGE_COLUMNS = ("issuance_id", "assessment_code", "certification_id", "state",
                 "credly_state", "credly_state_at", "credly_state_changed_at",
                 "credly_badge_id", "attempts", "last_error",
                 "planned_run_id", "issued_run_id", "issued_at", "entry_test_date",
                 "period", "previous_issuance_id", "expires_at",
                 "created_at", "updated_at")
# A student's trail lists at most this many certifications, and a trail this many events.
MAX_CERTIFICATIONS = 50
MAX_EVENTS = 500


def mask_email(email: str | None) -> str | None:
    """`zoe@example.org` -> `z***@example.org`; an address without @ is masked whole."""
    if not email or not email.strip():
        return None
    local, at, domain = email.strip().partition("@")
    return f"{local[:1]}***@{domain}" if at else f"{email.strip()[:1]}***"


def mask_name(name: str | None) -> str | None:
    """`Zoe` -> `Z***`."""
    return f"{name.strip()[:1]}***" if name and name.strip() else None


def action_for(reason: str | None) -> str | None:
    """What to do about a reason or a comma-separated list of checks (the correction
    report's own lines, so the page and the report never disagree)."""
    if not reason:
        return None
    from badging.reports.actions import ACTIONS

    return " ".join(dict.fromkeys(ACTIONS.get(name.strip(), "Check the entry.")
                                  for name in reason.split(",")))


@dataclass(frozen=True)
class Staged:
    """One run that staged the certification (still in staging)."""

    run_id: str
    day: date | None
    staged_at: datetime
    decision: str | None
    reason: str | None
    action: str | None
    expectations: list[str]
    assessment_code: str | None
    site_code: str | None
    program_code: str | None
    test_date: date | None
    deleted: bool
    name: str | None
    email: str | None
    run_link: str


@dataclass(frozen=True)
class AuditStep:
    """One audit-log event of the certification or of its badge."""

    at: datetime
    run_id: str
    day: date | None
    task_id: str
    map_index: int
    try_number: int | None
    event: str
    reason: str | None
    action: str | None
    detail: dict[str, Any]
    run_link: str
    task_link: str


@dataclass(frozen=True)
class Badge:
    """A ledger row; `credly_state` is the ledger's state until the ledger records Credly's.
    `expires`: its expiry day in Chicago, "never", or "" (not issued, or not known yet)."""

    fields: dict[str, Any]
    credly_state: str
    credly_state_recorded: bool
    run_links: dict[str, str]
    expires: str = ""


@dataclass(frozen=True)
class Correction:
    """A revocation, replacement or move of one of its badges."""

    fields: dict[str, Any]
    run_links: dict[str, str]


@dataclass
class Trail:
    """Everything the lookup shows for one certification."""

    certification_id: int
    headline: str
    what_to_do: str | None
    staged: list[Staged] = field(default_factory=list)
    events: list[AuditStep] = field(default_factory=list)
    badges: list[Badge] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    staging_retention_days: int = 0

    @property
    def found(self) -> bool:
        return bool(self.staged or self.events or self.badges)

    def to_json(self) -> dict[str, Any]:
        return {"found": self.found, **asdict(self)}


def certification_trail(conn: Any, certification_id: int, links: Links) -> Trail:
    """Read the trail of one certification from staging, quarantine, ledger and audit log."""
    from badging.pipeline.report import STAGING_RETENTION_DAYS

    staged_rows = source.rows(conn, "console/staged_entries.sql",
                              {"certification_id": certification_id})
    issuance_ids = sorted({r["issuance_id"] for r in staged_rows if r["issuance_id"]})
    badges = [_badge(r["badge"], links) for r in source.rows(
        conn, "console/badges.sql",
        {"certification_id": certification_id, "issuance_ids": issuance_ids})]
    issuance_ids = sorted({*issuance_ids, *(b.fields["issuance_id"] for b in badges)})
    events = [_step(r, links) for r in source.rows(
        conn, "console/audit_events.sql", {"certification_id": certification_id,
                                           "issuance_ids": issuance_ids, "limit": MAX_EVENTS})]
    corrections = [Correction(r, _run_links(r, links, "planned_run_id", "run_id",
                                            "revoked_run_id"))
                   for r in source.rows(conn, "console/revocations.sql",
                                        {"certification_id": certification_id,
                                         "issuance_ids": issuance_ids})]
    staged = [_staged(r, links) for r in staged_rows]
    headline, what_to_do = _headline(staged, events, badges)
    return Trail(certification_id, headline, what_to_do, staged, events, badges, corrections,
                 STAGING_RETENTION_DAYS)


def student_certifications(conn: Any, student_id: int) -> list[int]:
    """The certification ids known for a student, newest first."""
    return [r["certification_id"] for r in source.rows(
        conn, "console/student_certifications.sql",
        {"student_id": student_id, "limit": MAX_CERTIFICATIONS})]


def _staged(row: dict[str, Any], links: Links) -> Staged:
    reason = ", ".join(row["expectations"]) if row["expectations"] else row["reason"]
    full_name = " ".join(filter(None, (mask_name(row["first_name"]),
                                       mask_name(row["last_name"]))))
    return Staged(
        run_id=row["run_id"], day=row["logical_date"], staged_at=row["staged_at"],
        decision=row["decision"], reason=row["reason"], action=action_for(reason),
        expectations=list(row["expectations"] or []),
        assessment_code=row["assessment_code"], site_code=row["site_code"],
        program_code=row["program_code"], test_date=row["test_date"],
        deleted=row["deleted_at"] is not None, name=full_name or None,
        email=mask_email(row["email"]), run_link=links.run(row["run_id"]))


def _step(row: dict[str, Any], links: Links) -> AuditStep:
    detail = row["detail"] or {}
    checks = detail.get("expectations")
    reason = ", ".join(checks) if checks else row["reason"]
    return AuditStep(
        at=row["logged_at"], run_id=row["run_id"], day=row["logical_date"],
        task_id=row["task_id"], map_index=row["map_index"], try_number=row["try_number"],
        event=row["event"], reason=row["reason"],
        action=action_for(reason) if row["event"] in _EXPLAINED else None, detail=detail,
        run_link=links.run(row["run_id"]),
        task_link=links.task(row["run_id"], row["task_id"], row["map_index"]))


# The events whose reason is something to act on (the others' reason is an error or a gate).
_EXPLAINED = frozenset({Event.QUARANTINED, Event.INELIGIBLE, Event.HELD, Event.ALREADY_ISSUED,
                        Event.UNJUSTIFIED, Event.REVOKE_PLANNED, Event.REVOKED,
                        Event.REPLACE_PLANNED, Event.MOVE_PLANNED, Event.REPLACED,
                        Event.EMAIL_MOVED})


def _badge(row: dict[str, Any], links: Links) -> Badge:
    fields = {name: row.get(name) for name in BADGE_COLUMNS if name in row}
    recorded = bool(row.get("credly_state"))
    return Badge(fields, row["credly_state"] if recorded else row["state"], recorded,
                 _run_links(row, links, "planned_run_id", "issued_run_id"), _expires(row))


def _expires(row: dict[str, Any]) -> str:
    """A badge's expiry day in Oklahoma (to_jsonb gives the moment as ISO-8601 text)."""
    moment = row.get("expires_at")
    if moment:
        return datetime.fromisoformat(moment).astimezone(AGENCY_TZ).date().isoformat()
    # Issued with no expiry: it never expires (a badge issued before the ledger kept expiries
    # learns its own at the next sync).
    return "never" if row.get("state") == State.ISSUED and row.get("credly_badge_id") else ""


def _run_links(row: dict[str, Any], links: Links, *columns: str) -> dict[str, str]:
    return {row[c]: links.run(row[c]) for c in columns if row.get(c)}


def _headline(staged: list[Staged], events: list[AuditStep],
              badges: list[Badge]) -> tuple[str, str | None]:
    """One sentence for the help desk, and what to do, from the newest facts."""
    for badge in badges:
        state, badge_id = badge.fields["state"], badge.fields.get("credly_badge_id")
        if state == State.ISSUED:
            period = badge.fields.get("period") or 1
            renewal = f", renewing period {period - 1}" if period > 1 else ""
            return (f"Badge issued (Credly badge {badge_id}, Credly state "
                    f"{badge.credly_state}, expires {badge.expires or 'never'}{renewal}).",
                    None)
        if state == State.REVOKED:
            revoked = [e for e in events if e.event == Event.REVOKED]
            return f"Badge revoked (Credly badge {badge_id}).", action_for(
                revoked[-1].reason if revoked else None)
        if state == State.FAILED:
            return (f"Issuing failed after {badge.fields['attempts']} attempts "
                    f"({badge.fields.get('last_error') or 'no error recorded'}).",
                    "CareerTech will retry (param retry_failed); correct the entry if it is "
                    "wrong.")
        return (f"Badge planned, not issued yet (ledger state {state}).",
                "Nothing: the next run issues it.")
    decisions = [(e.event, e.reason, e.action, e.detail) for e in events
                 if e.event in (Event.QUARANTINED, Event.INELIGIBLE, Event.HELD,
                                Event.WOULD_ISSUE)]
    decisions += [(s.decision, s.reason, s.action, {"expectations": s.expectations})
                  for s in staged if s.decision]
    if decisions:
        event, reason, action, detail = decisions[0]
        if event == Event.QUARANTINED:
            checks = ", ".join(detail.get("expectations") or []) or "data checks"
            return f"Quarantined: the entry failed {checks}.", action
        if event == Event.INELIGIBLE:
            return f"Not eligible: {reason}.", action
        if event == Event.HELD:
            return ("Held: an operator's volume decision holds this entry (its day's feed was "
                    "rejected, or not answered); no badge until the day is released.", action)
        return "A dry run would issue it; no badge yet.", None
    return ("No run has seen this certification (or its staged rows were purged and the "
            "audit log has nothing for it).", None)
