"""Who must act: per site and per instructor, what waits for someone (docs/outcomes.md).

Badges unaccepted 30, 60 and 90 days after issue (the instructor nudges the student or fixes
the address in CTIMS), entries quarantined or ineligible still unfixed (the Sites page's open
items), and entries held by an operator's decision. Certification ids, codes, reasons and
staff logins only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from badging.console import source
from badging.console.links import Links

# Unaccepted this many days after issue: the ages the lists count (30 is the correction
# report's constants.UNACCEPTED_AFTER_DAYS).
AGES = (30, 60, 90)
# A site's page lists at most this many unaccepted badges (the CSV has them all).
MAX_LISTED = 2000
NOBODY = "(not recorded)"


def _cutoffs(now: datetime) -> dict[str, datetime]:
    return {f"before_{days}": now - timedelta(days=days) for days in AGES}


@dataclass(frozen=True)
class SiteWaits:
    """One site's counts: unaccepted by age, and entries held."""

    after_30: int = 0
    after_60: int = 0
    after_90: int = 0
    held: int = 0

    @property
    def unaccepted(self) -> int:
        return self.after_30 + self.after_60 + self.after_90


def by_site(conn: Any, scope: list[str] | None, now: datetime | None = None
            ) -> dict[str, SiteWaits]:
    """Per site code, what waits beside the Sites page's open items."""
    params = {"sites": scope, **_cutoffs(now or datetime.now(UTC))}
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for row in source.rows(conn, "console/act_pending_sites.sql", params):
        found[row["site_code"]].update(after_30=row["after_30"], after_60=row["after_60"],
                                       after_90=row["after_90"])
    for row in source.rows(conn, "console/act_held_sites.sql", {"sites": scope}):
        found[row["site_code"]]["held"] = row["held"]
    return {site: SiteWaits(**counts) for site, counts in found.items()}


@dataclass(frozen=True)
class Waiting:
    """One certification that waits for someone at the site."""

    certification_id: int
    kind: str
    detail: str
    lookup_link: str


@dataclass
class Instructor:
    """What waits for one person at a site (their login as CTIMS recorded it)."""

    entered_by: str
    items: list[Waiting] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for item in self.items if item.kind == kind)

    def ids(self, kind: str) -> list[int]:
        return [item.certification_id for item in self.items if item.kind == kind]

    def to_json(self) -> dict[str, Any]:
        return {"entered_by": self.entered_by,
                "items": [vars(item) for item in self.items]}


# The kinds, in the order a site's page lists them.
KINDS = ("unaccepted_90", "unaccepted_60", "unaccepted_30", "quarantined", "ineligible",
         "held")


def _age_kind(days: int) -> str:
    return next(f"unaccepted_{age}" for age in reversed(AGES) if days >= age)


def for_site(conn: Any, site_code: str, links: Links, open_items: list[Any],
             now: datetime | None = None) -> list[Instructor]:
    """A site's waiting certifications per instructor, the most to do first.

    `open_items` are the site's runs.SiteItem (its Sites page entries: quarantined, ineligible
    to fix, revocations held or failed, badges kept for review); the entries among them are
    listed under whoever entered them.
    """
    now = now or datetime.now(UTC)
    waiting: list[tuple[str | None, Waiting]] = []
    for row in source.rows(conn, "console/act_pending_site.sql", {
            "site_code": site_code, "now": now, "limit": MAX_LISTED, **_cutoffs(now)}):
        cid = row["certification_id"]
        waiting.append((row["entered_by"], Waiting(
            cid, _age_kind(row["days"]), f"{row['days']} days, {row['assessment_code']}",
            links.certification(cid))))
    for row in source.rows(conn, "console/act_held_site.sql", {"site_code": site_code}):
        cid = row["certification_id"]
        waiting.append((row["entered_by"], Waiting(cid, "held", row["reason"] or "held",
                                                   links.certification(cid))))
    entries = [i for i in open_items if i.certification_id and i.outcome in
               ("quarantined", "ineligible")]
    authors = {row["certification_id"]: row["entered_by"] for row in source.rows(
        conn, "console/act_authors.sql",
        {"certification_ids": [i.certification_id for i in entries]})} if entries else {}
    for item in entries:
        waiting.append((authors.get(item.certification_id), Waiting(
            item.certification_id, item.outcome, item.reason or "", item.lookup_link or "")))
    people: dict[str, Instructor] = {}
    for entered_by, item in waiting:
        name = entered_by or NOBODY
        people.setdefault(name, Instructor(name)).items.append(item)
    return sorted(people.values(), key=lambda p: (-len(p.items), p.entered_by))
