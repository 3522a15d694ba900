"""The ledger kept in step with Credly after issuance: each live badge's state, read in bulk."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from psycopg.types.json import Jsonb

from badging.core import audit, db
from badging.core.constants import (
    GONE_CREDLY_STATES,
    LISTED_FINAL_CREDLY_STATES,
    LIVE_CREDLY_STATES,
    CredlyState,
)
from badging.core.errors import CredlyInvalidRequest
from badging.core.run import RunInfo
from badging.credly.client import CredlyClient
from badging.credly.payloads import IssuedBadge

log = logging.getLogger(__name__)

# The list of final badges is read newest change first, down to the previous sync's start
# less this margin (clock skew between Credly and us, a change committed late there).
WATERMARK_MARGIN = timedelta(hours=1)
# Live badges in creation order: new badges land after the pages already read.
LIVE_SORT = "created_at"
FINAL_SORT = "-state_updated_at"


@dataclass
class SyncResult:
    """What one sync did (counts only: XCom and the sync's row in badging.credly_sync)."""

    live_before: int = 0
    # Credly requests: list pages of live and of final badges, then single lookups.
    live_pages: int = 0
    final_pages: int = 0
    # The new Credly state of each changed badge, and how many changed.
    changes: dict[str, int] = field(default_factory=dict)
    lookups: int = 0
    changed: int = 0
    pipeline_revoked: int = 0

    @property
    def requests(self) -> int:
        return self.live_pages + self.final_pages + self.lookups

    def as_xcom(self) -> dict[str, object]:
        return asdict(self) | {"requests": self.requests}


@dataclass(frozen=True)
class Seen:
    """A badge's state as Credly gave it, when Credly says it changed, and when it expires
    (None: never)."""

    state: str
    changed_at: datetime | None
    expires_at: datetime | None = None


def read_states(client: CredlyClient, live: Iterable[str], watermark: datetime | None,
                result: SyncResult, concurrency: int = 1) -> dict[str, Seen]:
    """Credly's state of each live badge, in bulk.

    1. Every pending or accepted badge of the organization, 50 a page, `concurrency` pages
       at a time (oldest first, by page number): the floor.
    2. The live badges not in that list became final since the last sync (or moved between
       pages while they were read): Credly's list of rejected, revoked and expired badges,
       most recent change first, until all are found or the list is older than the
       watermark (a Credly that refuses that sort skips this step).
    3. The rest, one GET each: a 404 is a deleted badge. The lists are hints; a badge is
       never called final or deleted without Credly saying so of that badge.

    Returns:
        {badge id: Seen} for every live badge.

    Raises:
        CredlyAuthError, CredlyInvalidRequest, CredlyRetryableError: nothing is written then.
    """
    wanted = set(live)
    found: dict[str, Seen] = {}

    def live_page() -> None:
        result.live_pages += 1

    def final_page() -> None:
        result.final_pages += 1

    for badge in client.list_badges([str(s) for s in LIVE_CREDLY_STATES], LIVE_SORT, live_page,
                                    concurrency):
        if badge.id in wanted:
            found[badge.id] = _seen(badge)
    missing = wanted - found.keys()
    if missing:
        try:
            for badge in client.list_badges([str(s) for s in LISTED_FINAL_CREDLY_STATES],
                                            FINAL_SORT, final_page):
                if badge.id in missing:
                    found[badge.id] = _seen(badge)
                    missing.discard(badge.id)
                if not missing or _older(badge, watermark):
                    break
        except CredlyInvalidRequest as error:
            if error.status not in (400, 422):
                raise
            log.warning("Credly refused the list of final badges by change time (HTTP %s): "
                        "%d badges looked up one by one", error.status, len(missing))
    for badge_id in sorted(missing):
        result.lookups += 1
        badge = client.get_badge(badge_id)
        found[badge_id] = (Seen(str(CredlyState.DELETED), None) if badge is None
                           else _seen(badge))
    return found


def _seen(badge: IssuedBadge) -> Seen:
    return Seen(badge.state, badge.state_updated_at, badge.expires_at)


def _older(badge: IssuedBadge, watermark: datetime | None) -> bool:
    return (watermark is not None and badge.state_updated_at is not None
            and badge.state_updated_at < watermark - WATERMARK_MARGIN)


def sync(run: RunInfo, client: CredlyClient, *, concurrency: int = 1,
         badging: str = db.BADGING_CONN_ID) -> SyncResult:
    """Bring every live badge's Credly state and expiry into the ledger (docs/credly-sync.md).

    `concurrency`: list pages read at once (the task's pool slot: the `concurrency` param's
    calls in flight). Credly is read outside any transaction; what it said is written in one
    statement (lifecycle/sync/apply.sql), so a failure while reading (5xx, 429, timeouts past the
    client's retries) writes nothing and the task's retry reads again.

    Returns:
        The counts (no student data).

    Raises:
        CredlyAuthError, CredlyInvalidRequest, CredlyRetryableError: as for any call.
    """
    result = SyncResult()
    started = datetime.now(UTC)
    params = audit.run_params(run)
    with db.connect(badging) as conn:
        db.execute(conn, "lifecycle/sync/fill_sites.sql")
        result.pipeline_revoked = db.execute(conn, "lifecycle/sync/pipeline_revoked.sql",
                                             params).rowcount
        live = dict(db.execute(conn, "lifecycle/sync/live_badges.sql").fetchall())
        watermark = db.execute(conn, "lifecycle/sync/watermark.sql", params).fetchone()[0]
        result.live_before = len(live)
        db.execute(conn, "lifecycle/sync/start.sql", params | {"started_at": started,
                                                      "live_before": len(live)})
    found = read_states(client, live, watermark, result, concurrency) if live else {}
    ids = sorted(found)
    states = [_known(found[i].state) for i in ids]
    changes = Counter(state for i, state in zip(ids, states, strict=True)
                      if state != (live[i] or CredlyState.PENDING))
    with db.connect(badging) as conn:
        db.execute(conn, "lifecycle/sync/apply.sql", params | {
            "badge_ids": ids,
            "credly_states": states,
            "changed_at": [found[i].changed_at for i in ids],
            "expires_at": [found[i].expires_at for i in ids],
            "seen_at": started,
        })
        result.changed = sum(changes.values())
        result.changes = dict(changes)
        db.execute(conn, "lifecycle/sync/finish.sql", {
            "run_id": run.run_id, "changed": result.changed, "requests": result.requests,
            "counts": Jsonb(result.as_xcom())})
    gone = sum(n for state, n in changes.items() if state in GONE_CREDLY_STATES)
    log.info("sync: %d live badges read in %d requests (%d live pages, %d final pages, "
             "%d lookups); %d changed %s, %d revoked or deleted in Credly by someone else",
             len(live), result.requests, result.live_pages, result.final_pages, result.lookups,
             result.changed, dict(changes), gone)
    return result


def _known(state: str) -> str:
    """A state Credly may add later is not guessed at: the badge is left pending (live)."""
    if state in CredlyState.__members__.values():
        return state
    log.warning("Credly returned a badge state this pipeline does not know: %r", state)
    return str(CredlyState.PENDING)
