"""Sandbox state: badges and templates in memory, written through to SQLite (WAL) on every change.

Duplicate rule (our reading of Credly): a new badge is refused with 422 "User already has this
badge" when another badge on the same template has the same recipient email (case-insensitive)
or, when both carry one, the same issuer_earner_id, unless the template allows duplicates.
Whether a revoked badge still counts is unknown, so it is a switch
(`Behavior.revoked_blocks_reissue`, off by default: revoking frees the earner for a new badge
of that template; on: only DELETE, Credly's data-removal path, does). Likewise an expired
badge (`Behavior.expired_blocks_reissue`, off by default: an earner whose badge expired can
earn it again). A badge that has been replaced never counts, since its replacement now
stands for it.

Expiry: a pending or accepted badge whose expires_at has passed on the sandbox's clock
(clock.py) becomes `expired`, with state_updated_at its expires_at, before any read and any
duplicate check, as Credly's own expiry would have it.
"""

from __future__ import annotations

import heapq
import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from devstack.credly_sandbox import model
from devstack.credly_sandbox.behavior import Behavior
from devstack.credly_sandbox.earners import EarnerQueue, Earners
from devstack.credly_sandbox.model import ApiError

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS templates (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS badges (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class Store:
    """All badge and template state; every method runs on the event loop thread."""

    def __init__(self, path: Path, org_id: str) -> None:
        self.org_id = org_id
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # WAL with synchronous=NORMAL: a commit survives the process being killed, and costs no
        # fsync per request, which is what keeps the issue path fast.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self.templates: dict[str, dict[str, Any]] = {}
        self.badges: dict[str, dict[str, Any]] = {}
        # Creation sequence per badge id: the tie-breaker that keeps list pages stable.
        self.order: dict[str, int] = {}
        # Lists rather than sets: almost every key holds one id, and a list of one is far smaller.
        self._by_email: dict[str, list[str]] = {}
        self._by_earner: dict[str, list[str]] = {}
        self._seq = 0
        # Bumped by every change of a badge: list queries are cached per version, so paging
        # through 150,000 badges filters them once, not once a page.
        self.version = 0
        self.duplicates_refused = 0
        self.behavior = Behavior()
        # Earners accepting or rejecting pending badges over time (earners.py).
        self.earners = Earners()
        self._undecided = EarnerQueue()
        # (expires_at, badge id) of live badges that carry an expiry, soonest first.
        self._expiring: list[tuple[str, str]] = []
        self._load()

    def _load(self) -> None:
        for (body,) in self._db.execute("SELECT body FROM templates"):
            template = json.loads(body)
            self.templates[template["id"]] = template
        for seq, body in self._db.execute("SELECT seq, body FROM badges ORDER BY seq"):
            self._seq = seq
            badge = json.loads(body)
            self._index(badge)
            if badge["state"] == "pending":
                self._undecided.add(model.parse_time(badge["created_at"], "created_at"),
                                    badge["id"])
            self._watch_expiry(badge)
        row = self._db.execute(
            "SELECT value FROM counters WHERE name = 'duplicates_refused'"
        ).fetchone()
        self.duplicates_refused = row[0] if row else 0
        log.info("loaded %d templates and %d badges", len(self.templates), len(self.badges))

    def close(self) -> None:
        self._db.close()

    # -- indices -------------------------------------------------------------------------------

    def _index(self, badge: dict[str, Any]) -> None:
        """Register a badge just saved (or loaded) under the current sequence number."""
        self.badges[badge["id"]] = badge
        self.order[badge["id"]] = self._seq
        self._by_email.setdefault(badge["recipient_email"].lower(), []).append(badge["id"])
        if badge["issuer_earner_id"] is not None:
            self._by_earner.setdefault(badge["issuer_earner_id"], []).append(badge["id"])

    def _unindex(self, badge: dict[str, Any]) -> None:
        self.version += 1
        del self.badges[badge["id"]]
        del self.order[badge["id"]]
        self._by_email[badge["recipient_email"].lower()].remove(badge["id"])
        if badge["issuer_earner_id"] is not None:
            self._by_earner[badge["issuer_earner_id"]].remove(badge["id"])

    def _watch_expiry(self, badge: dict[str, Any]) -> None:
        if badge["expires_at"] and badge["state"] in ("pending", "accepted"):
            # ISO-8601 UTC with milliseconds (model.iso) sorts as text.
            heapq.heappush(self._expiring, (badge["expires_at"], badge["id"]))

    def expire_due(self) -> int:
        """Every live badge whose expires_at has passed becomes expired; returns how many."""
        horizon = model.iso(model.now())
        expired = 0
        while self._expiring and self._expiring[0][0] <= horizon:
            when, badge_id = heapq.heappop(self._expiring)
            badge = self.badges.get(badge_id)
            if (badge is None or badge["expires_at"] != when
                    or badge["state"] not in ("pending", "accepted")):
                continue
            badge.update(state="expired", updated_at=when, state_updated_at=when)
            self._save_badge(badge, new=False)
            expired += 1
        return expired

    def ids_for_email(self, email: str) -> list[str]:
        return self._by_email.get(email.lower(), [])

    def ids_for_earner(self, earner_id: str) -> list[str]:
        return self._by_earner.get(earner_id, [])

    # -- persistence ---------------------------------------------------------------------------

    def _save_badge(self, badge: dict[str, Any], *, new: bool) -> None:
        self.version += 1
        body = json.dumps(badge, separators=(",", ":"))
        if new:
            self._seq += 1
            self._db.execute(
                "INSERT INTO badges (id, seq, body) VALUES (?, ?, ?)",
                (badge["id"], self._seq, body),
            )
        else:
            self._db.execute("UPDATE badges SET body = ? WHERE id = ?", (body, badge["id"]))

    def _count_duplicate(self) -> None:
        self.duplicates_refused += 1
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES ('duplicates_refused', ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (self.duplicates_refused,),
        )

    # -- templates -----------------------------------------------------------------------------

    def upsert_templates(self, raw_templates: Iterable[Any]) -> int:
        records = []
        for raw in raw_templates:
            key = str(raw.get("id", "")).strip() if isinstance(raw, dict) else ""
            existing = self.templates.get(key)
            records.append(model.template_record(raw, self.org_id, existing))
        with self._db:
            self._db.execute("BEGIN")
            for record in records:
                self._db.execute(
                    "INSERT INTO templates (id, body) VALUES (?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                    (record["id"], json.dumps(record)),
                )
        for record in records:
            self.templates[record["id"]] = record
        # A template's name is matched by the list's `query` filter.
        self.version += 1
        return len(records)

    def render(self, badge: dict[str, Any]) -> dict[str, Any]:
        """A badge as Credly returns it; templates are only ever upserted, so it is always there."""
        return model.public_badge(badge, self.templates[badge["badge_template_id"]])

    # -- badges --------------------------------------------------------------------------------

    def _issuable_template(self, template_id: str) -> dict[str, Any]:
        template = self.templates.get(template_id)
        if template is None:
            raise ApiError(422, "badge_template_id does not match a badge template")
        if template["state"] != "active":
            raise ApiError(422, f"Badge template is {template['state']} and cannot issue badges")
        return template

    def _find_duplicate(
        self, fields: dict[str, Any], template: dict[str, Any], ignore: str | None = None
    ) -> str | None:
        if template["allow_duplicate_badges"]:
            return None
        candidates = self.ids_for_email(fields["recipient_email"])
        if fields["issuer_earner_id"] is not None:
            candidates = candidates + self.ids_for_earner(fields["issuer_earner_id"])
        revoked_counts = self.behavior.revoked_blocks_reissue
        expired_counts = self.behavior.expired_blocks_reissue
        self.expire_due()
        for badge_id in candidates:
            badge = self.badges[badge_id]
            if (
                badge_id != ignore
                and badge["badge_template_id"] == template["id"]
                and badge["replacement_badge_id"] is None
                and (revoked_counts or badge["state"] != "revoked")
                and (expired_counts or badge["state"] != "expired")
            ):
                return badge_id
        return None

    def _refuse_duplicate(self) -> None:
        self._count_duplicate()
        raise ApiError(422, model.DUPLICATE_MESSAGE)

    def issue(self, payload: Any) -> dict[str, Any]:
        fields = model.validate_issue(payload)
        template = self._issuable_template(fields["badge_template_id"])
        fields = model.template_expiry(fields, template)
        if self._find_duplicate(fields, template):
            self._refuse_duplicate()
        badge = model.new_badge(fields)
        self._save_badge(badge, new=True)
        self._index(badge)
        self._undecided.add(model.now(), badge["id"])
        self._watch_expiry(badge)
        return badge

    def get(self, badge_id: str) -> dict[str, Any]:
        badge = self.badges.get(badge_id)
        if badge is None:
            raise ApiError(404, "Badge not found")
        return badge

    def revoke(self, badge_id: str, payload: Any) -> dict[str, Any]:
        badge = self.get(badge_id)
        if not isinstance(payload, dict):
            raise ApiError(422, "request body must be a JSON object")
        reason = payload.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ApiError(422, "reason can't be blank")
        if badge["replacement_badge_id"] is not None:
            raise ApiError(422, "A badge that has been replaced cannot be revoked")
        if badge["state"] == "revoked":
            raise ApiError(422, "Badge has already been revoked")
        stamp = model.iso(model.now())
        badge.update(
            state="revoked",
            revocation_reason=reason.strip(),
            updated_at=stamp,
            state_updated_at=stamp,
        )
        self._save_badge(badge, new=False)
        return badge

    def replace(self, badge_id: str, payload: Any) -> dict[str, Any]:
        old = self.get(badge_id)
        if old["replacement_badge_id"] is not None:
            raise ApiError(422, "Badge has already been replaced")
        if old["state"] == "revoked":
            raise ApiError(422, "A revoked badge cannot be replaced")
        fields = model.validate_replacement(payload, old)
        template = self._issuable_template(fields["badge_template_id"])
        fields = model.template_expiry(fields, template)
        if self._find_duplicate(fields, template, ignore=old["id"]):
            self._refuse_duplicate()
        badge = model.new_badge(fields)
        badge["replaces_badge_id"] = old["id"]
        old.update(replacement_badge_id=badge["id"], updated_at=badge["created_at"])
        with self._db:
            self._db.execute("BEGIN")
            self._save_badge(badge, new=True)
            self._save_badge(old, new=False)
        self._index(badge)
        self._undecided.add(model.now(), badge["id"])
        self._watch_expiry(badge)
        return badge

    def set_state(self, badge_id: str, state: str) -> dict[str, Any]:
        """Earner-side transitions (accept/reject) that only Credly's web app can make, and
        expiry (Credly's clock)."""
        badge = self.get(badge_id)
        stamp = model.iso(model.now())
        badge.update(state=state, updated_at=stamp, state_updated_at=stamp)
        self._save_badge(badge, new=False)
        return badge

    def let_earners_act(self) -> int:
        """Apply the decisions of every earner whose delay has passed, then expire what is due
        (before any read, so a list is consistent with the gets after it); returns how many
        badges changed."""
        due = self._undecided.due(self.earners, model.now())
        if not due:
            return self.expire_due()
        acted = 0
        with self._db:
            self._db.execute("BEGIN")
            for badge_id, state, when in due:
                badge = self.badges.get(badge_id)
                # Revoked, replaced or deleted meanwhile: nothing left to accept.
                if badge is None or badge["state"] != "pending" or badge["replacement_badge_id"]:
                    continue
                stamp = model.iso(when)
                badge.update(state=state, updated_at=stamp, state_updated_at=stamp)
                self._save_badge(badge, new=False)
                acted += 1
        return acted + self.expire_due()

    def delete(self, badge_id: str) -> None:
        badge = self.get(badge_id)
        self._db.execute("DELETE FROM badges WHERE id = ?", (badge_id,))
        self._unindex(badge)

    def issue_many(self, count: int, template_id: str) -> list[str]:
        """`count` pending badges of one template for made-up earners, in one transaction:
        the bench's 150,000 live badges without 150,000 POSTs. Returns their ids."""
        stamp = model.iso(model.now())
        return self.import_badges(
            {"recipient_email": f"bulk{n}@example.org", "badge_template_id": template_id,
             "issued_to_first_name": "Bulk", "issued_to_last_name": f"Earner{n}",
             "issued_at": stamp, "issuer_earner_id": f"bulk-{n}"}
            for n in range(self._seq + 1, self._seq + count + 1))

    def import_badges(self, payloads: Iterable[Any]) -> list[str]:
        """Pending badges from issue payloads, as Credly's bulk upload or a person in its web
        app made them before the pipeline (no duplicate check), in one transaction."""
        ids = []
        with self._db:
            self._db.execute("BEGIN")
            for payload in payloads:
                fields = model.validate_issue(payload)
                template = self._issuable_template(fields["badge_template_id"])
                badge = model.new_badge(model.template_expiry(fields, template))
                self._save_badge(badge, new=True)
                self._index(badge)
                self._undecided.add(model.now(), badge["id"])
                self._watch_expiry(badge)
                ids.append(badge["id"])
        return ids

    def reset(self) -> None:
        """Forget every badge and the duplicate counter; templates stay."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM badges")
            self._db.execute("DELETE FROM counters")
        self.version += 1
        self.badges.clear()
        self.order.clear()
        self._by_email.clear()
        self._by_earner.clear()
        self._undecided.clear()
        self._expiring.clear()
        self.earners = Earners()
        self.duplicates_refused = 0

    def state_counts(self) -> dict[str, int]:
        return dict(Counter(badge["state"] for badge in self.badges.values()))
