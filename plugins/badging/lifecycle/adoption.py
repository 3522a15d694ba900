"""Adopting badges Credly already holds instead of issuing them again (docs/history-load.md).

A deployment starts with years of Real-Time rows, many of them badged by hand or by Credly's
bulk upload before the pipeline. A history load (`adopt_existing`) reads the organization's
badges once, in bulk, matches them to the badges the run is about to issue by template and
earner, and records those as `adopted`: issued in the ledger, never POSTed. The rest is
issued as usual. A badge the list missed (changed while it was read) is no risk: Credly
refuses the POST as a duplicate and the issue task looks it up (docs/exactly-once.md).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from badging.core import audit, db, sql
from badging.core.constants import ADOPTION_REASONS, CredlyState
from badging.core.names import NameKey
from badging.core.recipients import recipients
from badging.core.run import RunInfo
from badging.credly.matching import earners_badge
from badging.credly.payloads import BadgeHolder, IssuedBadge

if TYPE_CHECKING:
    from badging.credly import CredlyClient

log = logging.getLogger(__name__)

# A badge the earner was offered stays theirs whether they accepted it, have not yet, or
# rejected it (offering it again would be a second claim email). A revoked or expired badge
# is not adopted: the pipeline issues a new one (Credly decides whether it may).
ADOPTABLE_STATES = (CredlyState.PENDING, CredlyState.ACCEPTED, CredlyState.REJECTED)
# Oldest first: badges created while the list is read come after the pages already read.
LIST_SORT = "created_at"

_Listed = tuple[IssuedBadge, BadgeHolder]


@dataclass
class AdoptionResult:
    """What one adoption did: counts only (logs, XCom)."""

    candidates: int = 0
    listed: int = 0
    pages: int = 0
    list_seconds: float = 0.0
    adopted: int = 0
    by_earner_id: int = 0
    by_email: int = 0
    # Why a badge Credly holds for the address was not taken (earners_badge's obstacles;
    # those in ADOPTION_REASONS are audited `not_adopted`, for a person to decide).
    not_adopted: dict[str, int] = field(default_factory=dict)

    def as_xcom(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Index:
    """Credly's badges by (template, earner id) and by (template, email)."""

    by_earner: dict[tuple[str, str], list[_Listed]] = field(
        default_factory=lambda: defaultdict(list))
    by_email: dict[tuple[str, str], list[_Listed]] = field(
        default_factory=lambda: defaultdict(list))

    def add(self, badge: IssuedBadge, holder: BadgeHolder) -> None:
        if not badge.template_id:
            return
        if badge.issuer_earner_id:
            self.by_earner[badge.template_id, badge.issuer_earner_id].append((badge, holder))
        if holder.email:
            self.by_email[badge.template_id, holder.email].append((badge, holder))

    def candidates(self, template_id: str, earner_id: str, email: str) -> list[_Listed]:
        found = {b.id: (b, h) for b, h in self.by_earner.get((template_id, earner_id), ())}
        for badge, holder in self.by_email.get((template_id, email), ()):
            found.setdefault(badge.id, (badge, holder))
        return list(found.values())


def _index(items: Iterable[dict[str, Any]]) -> tuple[_Index, int]:
    index, listed = _Index(), 0
    for item in items:
        index.add(IssuedBadge.from_api(item), BadgeHolder.from_api(item))
        listed += 1
    return index, listed


def adopt(run: RunInfo, client: CredlyClient, *, concurrency: int,
          badging: str = db.BADGING_CONN_ID, ctims: str = db.CTIMS_CONN_ID) -> AdoptionResult:
    """Adopt the badges Credly already holds among the run's pending batched badges.

    Reads Credly's list outside any transaction (`concurrency` pages at a time), then writes
    every match in one statement with its audit row (lifecycle/adoption/adopt.sql), and in
    the same transaction a `not_adopted` audit row for each badge held at the student's
    address that is not surely theirs (lifecycle/adoption/not_adopted.sql). Names are
    compared here, in memory; only the reason is recorded. Safe to repeat: a row adopted once
    is no longer pending, and a decision already audited in this run is not audited again.

    Raises:
        CredlyAuthError, CredlyInvalidRequest, CredlyRetryableError: nothing is written then.
    """
    result = AdoptionResult()
    with db.connect(badging) as conn:
        planned = db.execute(conn, "lifecycle/adoption/adoption_candidates.sql",
                             {"run_id": run.run_id}).fetchall()
    result.candidates = len(planned)
    if not planned:
        return result
    found = recipients((row[1] for row in planned), ctims=ctims)

    def page_read() -> None:
        result.pages += 1

    started = time.monotonic()
    index, result.listed = _index(client.badge_list(
        [str(s) for s in ADOPTABLE_STATES], LIST_SORT, page_read, concurrency))
    result.list_seconds = round(time.monotonic() - started, 2)
    matches, taken, for_a_person = [], set(), []
    not_adopted: dict[str, int] = defaultdict(int)
    for issuance_id, certification_id, template_id, earner_id in planned:
        recipient = found.get(certification_id)
        # Deleted in CTIMS since it was planned: the issue task fails it (CertificationGone).
        if recipient is None:
            continue
        # An address cleared in CTIMS since: only the earner id can match.
        email = (recipient.email or "").strip().lower()
        badge, obstacle = earners_badge(
            index.candidates(template_id, earner_id, email), template_id=template_id,
            email=email, earner_id=earner_id, email_shared=recipient.email_shared,
            name=NameKey.of(recipient.first_name, recipient.last_name))
        if badge is None or badge.id in taken:
            if obstacle or badge is not None:
                not_adopted[obstacle or "badge_taken"] += 1
            if obstacle in ADOPTION_REASONS:
                for_a_person.append((issuance_id, str(obstacle)))
            continue
        taken.add(badge.id)
        matched_by = "earner_id" if badge.issuer_earner_id == earner_id else "email"
        matches.append((issuance_id, badge.id, badge.issued_at, matched_by, badge.expires_at))
    result.not_adopted = dict(not_adopted)
    with db.connect(badging) as conn:
        db.execute(conn, "lifecycle/adoption/adopted_table.sql")
        copying = sql.load("lifecycle/adoption/adopted_copy.sql")
        with conn.cursor() as cur, cur.copy(copying) as copy:
            for match in matches:
                copy.write_row(match)
        adopted = [row[0] for row in db.execute(
            conn, "lifecycle/adoption/adopt.sql",
            audit.run_params(run) | {"issuing_run": run.issuing_run})]
        db.execute(conn, "lifecycle/adoption/not_adopted.sql", audit.run_params(run) | {
            "issuance_ids": [i for i, _ in for_a_person],
            "reasons": [r for _, r in for_a_person]})
    result.adopted = len(adopted)
    result.by_earner_id = adopted.count("earner_id")
    result.by_email = adopted.count("email")
    log.info("adoption: %d of %d badges to issue were already in Credly and are adopted "
             "(%d by earner id, %d by email; %d listed in %d pages, %.1f s); not adopted: %s",
             result.adopted, result.candidates, result.by_earner_id, result.by_email,
             result.listed, result.pages, result.list_seconds, result.not_adopted or "none")
    return result
