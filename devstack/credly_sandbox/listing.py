"""Credly-style list queries: `filter=key::v1,v2|key::v`, `sort=-field,field`, 1-based pages."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from devstack.credly_sandbox.model import ApiError
from devstack.credly_sandbox.store import Store

MAX_PER_PAGE = 50
BADGE_SORTS = (
    "created_at",
    "issued_at",
    "updated_at",
    "state_updated_at",
    "expires_at",
    "recipient_email",
    "issued_to_first_name",
    "issued_to_last_name",
    "state",
)
TEMPLATE_SORTS = ("name", "created_at", "updated_at", "state")
# Newest first, as Credly's own listings are; clients that page must not rely on it.
DEFAULT_BADGE_SORT = "-created_at"
DEFAULT_TEMPLATE_SORT = "name"

Record = dict[str, Any]


def parse_filter(text: str | None, allowed: Iterable[str]) -> dict[str, list[str]]:
    """`key::a,b|key2::c` → {key: [a, b], key2: [c]}.

    An unknown key is refused, not ignored, so a client relying on a filter Credly lacks finds
    out here rather than by silently reading every badge.
    """
    filters: dict[str, list[str]] = {}
    if not text:
        return filters
    allowed = set(allowed)
    for clause in text.split("|"):
        if not clause:
            continue
        key, sep, values = clause.partition("::")
        if not sep:
            raise ApiError(422, f"Invalid filter clause: {key!r}")
        if key not in allowed:
            raise ApiError(422, f"Unsupported filter: {key}")
        filters.setdefault(key, []).extend(value for value in values.split(",") if value != "")
    return filters


def _query_text(badge: Record, template_name: str) -> str:
    parts = (
        badge["recipient_email"],
        badge["issued_to_first_name"],
        badge["issued_to_last_name"],
        template_name,
    )
    return " ".join(part for part in parts if part).lower()


def _badge_matches(store: Store, badge: Record, filters: Mapping[str, list[str]]) -> bool:
    for key, values in filters.items():
        if key in ("recipient_email", "recipient_email_all"):
            ok = badge["recipient_email"].lower() in {value.lower() for value in values}
        elif key == "badge_template_id":
            ok = badge["badge_template_id"] in values
        elif key == "query":
            text = _query_text(badge, store.templates[badge["badge_template_id"]]["name"])
            ok = any(value.lower() in text for value in values)
        elif key == "public":
            # Every sandbox badge is public: public::true keeps all, public::false none.
            ok = "true" in values
        else:
            ok = badge[key] in values
        if not ok:
            return False
    return True


def filter_badges(store: Store, filters: Mapping[str, list[str]]) -> list[Record]:
    """Matching badges in creation order, narrowed first through the email or earner index."""
    candidates: Iterable[str] | None = None
    for key in ("recipient_email", "recipient_email_all"):
        if key in filters:
            candidates = {i for value in filters[key] for i in store.ids_for_email(value)}
    if candidates is None and "issuer_earner_id" in filters:
        candidates = {
            i for value in filters["issuer_earner_id"] for i in store.ids_for_earner(value)
        }
    if candidates is None:
        badges: Iterable[Record] = store.badges.values()
    else:
        # Back into creation order, which is what store.badges iterates in.
        badges = sorted((store.badges[i] for i in candidates), key=lambda b: store.order[b["id"]])
    if not filters:
        return list(badges)
    return [badge for badge in badges if _badge_matches(store, badge, filters)]


def filter_templates(store: Store, filters: Mapping[str, list[str]]) -> list[Record]:
    def matches(template: Record) -> bool:
        for key, values in filters.items():
            if key == "query":
                ok = any(value.lower() in template["name"].lower() for value in values)
            else:
                ok = template[key] in values
            if not ok:
                return False
        return True

    return [template for template in store.templates.values() if matches(template)]


def sort_records(
    records: list[Record],
    sort: str | None,
    allowed: Iterable[str],
    tiebreak: Callable[[Record], Any] | None = None,
) -> list[Record]:
    """Stable multi-key sort, the last key applied first.

    Ties keep the `tiebreak` order, or the order given when `tiebreak` is None.
    """
    allowed = set(allowed)
    keys = [key.strip() for key in (sort or "").split(",") if key.strip()]
    if tiebreak is not None:
        records = sorted(records, key=tiebreak)
    elif keys in (["created_at"], ["-created_at"]):
        # Records in creation order are already sorted by created_at: skip the work, which
        # matters when a reconciliation pages through a backfill's worth of badges.
        return records if keys[0] == "created_at" else records[::-1]
    for key in reversed(keys):
        field = key.removeprefix("-")
        if field not in allowed:
            raise ApiError(422, f"Unsupported sort: {field}")
        # Nulls (e.g. no expiry) sort after every value, whatever the direction.
        present = [r for r in records if r[field] is not None]
        missing = [r for r in records if r[field] is None]
        present.sort(key=lambda r, f=field: r[f], reverse=key.startswith("-"))
        records = present + missing
    return records


def _positive_int(text: str | None, name: str, default: int) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(422, f"{name} must be a positive integer") from None
    if value < 1:
        raise ApiError(422, f"{name} must be a positive integer")
    return value


def paginate(
    records: list[Record],
    page_text: str | None,
    per_text: str | None,
    page_url: Callable[[int], str],
) -> tuple[list[Record], dict[str, Any]]:
    """Cut one page and build Credly's metadata; `page_url(n)` gives the absolute URL of page n."""
    page = _positive_int(page_text, "page", 1)
    # Credly serves pages of 50; asking for more quietly gets 50, which metadata.per reports.
    per = min(_positive_int(per_text, "per", MAX_PER_PAGE), MAX_PER_PAGE)
    total = len(records)
    total_pages = math.ceil(total / per)
    chunk = records[(page - 1) * per : page * per]
    return chunk, {
        "count": len(chunk),
        "current_page": page,
        "total_count": total,
        "total_pages": total_pages,
        "per": per,
        "previous_page_url": page_url(page - 1) if 1 < page <= total_pages + 1 else None,
        "next_page_url": page_url(page + 1) if page < total_pages else None,
    }
