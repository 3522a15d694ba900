"""Badge and template records: request validation and the JSON shapes Credly returns."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from devstack.credly_sandbox import clock

TEMPLATE_STATES = ("active", "draft", "archived")
REQUIRED_ISSUE_FIELDS = (
    "recipient_email",
    "badge_template_id",
    "issued_to_first_name",
    "issued_to_last_name",
    "issued_at",
)
# Credly's documented wire format for times it receives, e.g. "2014-04-01 09:41:00 -0500".
CREDLY_TIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"
DUPLICATE_MESSAGE = "User already has this badge"
# Deliberately loose, like most server-side checks: one "@", a dotted domain, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# Credly's evidence types and the fields each needs here (our reading of "evidence (typed
# objects, e.g. IdEvidence)": docs/credly-api.md). Other keys are kept as sent.
EVIDENCE_FIELDS = {
    "IdEvidence": ("title", "id"),
    "PlainTextEvidence": ("title", "description"),
    "UrlEvidence": ("name", "url"),
}
# Badge links point at Credly-shaped hosts; nothing fetches them, they only need the right shape.
_WEB = "https://sandbox.credly.com"
_IMAGES = "https://images.credly.com/sandbox"


class ApiError(Exception):
    """A request Credly would refuse; rendered as `{"data": {"message": ...}}` with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def iso(moment: datetime) -> str:
    """Credly's ISO-8601 UTC rendering with milliseconds, which also sorts as text."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def now() -> datetime:
    """Credly's now: the sandbox's clock, which a test may move (clock.py)."""
    return clock.now()


def parse_time(value: Any, field: str) -> datetime:
    """Accept Credly's documented format and ISO-8601; a time without an offset is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, f"{field} is invalid")
    text = value.strip()
    try:
        moment = datetime.strptime(text, CREDLY_TIME_FORMAT)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ApiError(422, f"{field} is invalid") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _required_text(payload: dict[str, Any], field: str) -> str:
    value = payload.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ApiError(422, f"{field} can't be blank")
    if not isinstance(value, str):
        raise ApiError(422, f"{field} is invalid")
    return value.strip()


def _optional_text(payload: dict[str, Any], field: str) -> str | None:
    value = payload.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ApiError(422, f"{field} is invalid")
    # Numeric earner ids are common in client code; Credly stores them as text.
    return str(value)


# What validate_issue returns for an expires_at left null or out: the template's default.
TEMPLATE_DEFAULT = "template_default"


def _expires_at(payload: dict[str, Any], issued: datetime) -> str | None:
    """Credly: "If left null the badge template's default expiration is used. Set this to
    false to indicate 'no expiration'." A time must come after issued_at."""
    value = payload.get("expires_at")
    if value is None:
        return TEMPLATE_DEFAULT
    if value is False:
        return None
    if value is True:
        raise ApiError(422, "expires_at is invalid")
    moment = parse_time(value, "expires_at")
    if moment <= issued:
        raise ApiError(422, "expires_at must be after issued_at")
    return iso(moment)


def template_expiry(fields: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    """Fill a template default expiry in: issued_at plus the template's expires_in_days, or no
    expiry when the template sets none."""
    if fields["expires_at"] != TEMPLATE_DEFAULT:
        return fields
    days = template.get("expires_in_days")
    moment = fields["issued_at"] + timedelta(days=days) if days else None
    return {**fields, "expires_at": iso(moment) if moment else None}


def _evidence(payload: dict[str, Any]) -> list[dict[str, Any]]:
    evidence = payload.get("evidence")
    if evidence is None:
        return []
    if not isinstance(evidence, list):
        raise ApiError(422, "evidence must be a list")
    for item in evidence:
        if not isinstance(item, dict):
            raise ApiError(422, "each evidence must be a JSON object")
        kind = item.get("type")
        if kind not in EVIDENCE_FIELDS:
            raise ApiError(422, f"evidence type {kind!r} is not supported; use one of "
                                f"{', '.join(EVIDENCE_FIELDS)}")
        for name in EVIDENCE_FIELDS[kind]:
            value = item.get(name)
            blank = not isinstance(value, str | int) or isinstance(value, bool)
            if blank or not str(value).strip():
                raise ApiError(422, f"{kind} {name} can't be blank")
        if kind == "UrlEvidence" and not str(item["url"]).startswith(("http://", "https://")):
            raise ApiError(422, "UrlEvidence url is invalid")
    return evidence


def template_record(raw: Any, org_id: str, existing: dict[str, Any] | None) -> dict[str, Any]:
    """Normalise one template pushed by a seed file or /_sandbox/templates (upsert by id)."""
    if not isinstance(raw, dict):
        raise ApiError(422, "each template must be a JSON object")
    template_id = raw.get("id")
    if not isinstance(template_id, str) or not template_id.strip():
        raise ApiError(422, "template id can't be blank")
    state = raw.get("state", "active")
    if state not in TEMPLATE_STATES:
        raise ApiError(422, f"template state must be one of {', '.join(TEMPLATE_STATES)}")
    allow = raw.get("allow_duplicate_badges", False)
    if not isinstance(allow, bool):
        raise ApiError(422, "allow_duplicate_badges must be a boolean")
    # The template's default expiration (Credly's "Template Level Expiration Dates"): days
    # after issued_at, or None for none.
    expires_in_days = raw.get("expires_in_days")
    if expires_in_days is not None and (isinstance(expires_in_days, bool)
                                        or not isinstance(expires_in_days, int)
                                        or expires_in_days < 1):
        raise ApiError(422, "expires_in_days must be a positive integer or null")
    name = raw.get("name") or template_id
    stamp = iso(now())
    return {
        "id": template_id.strip(),
        "name": str(name),
        "description": str(raw.get("description") or ""),
        "state": state,
        "allow_duplicate_badges": allow,
        "expires_in_days": expires_in_days,
        "image_url": f"{_IMAGES}/templates/{template_id.strip()}/image.png",
        "url": f"{_WEB}/org/sandbox/badge/{template_id.strip()}",
        "owner": {"id": org_id, "type": "Organization"},
        "created_at": existing["created_at"] if existing else stamp,
        "updated_at": stamp,
    }


def template_summary(template: dict[str, Any]) -> dict[str, Any]:
    """The part of a template that Credly embeds in every IssuedBadge."""
    return {
        "id": template["id"],
        "name": template["name"],
        "state": template["state"],
        "allow_duplicate_badges": template["allow_duplicate_badges"],
        "image_url": template["image_url"],
    }


def validate_issue(payload: Any) -> dict[str, Any]:
    """Check an issue request in Credly's order: presence, then formats. Returns clean fields."""
    if not isinstance(payload, dict):
        raise ApiError(422, "request body must be a JSON object")
    fields = {name: _required_text(payload, name) for name in REQUIRED_ISSUE_FIELDS}
    if not _EMAIL.match(fields["recipient_email"]):
        raise ApiError(422, "recipient_email is invalid")
    issued = parse_time(fields["issued_at"], "issued_at")
    suppress = payload.get("suppress_badge_notification_email", False)
    if not isinstance(suppress, bool):
        raise ApiError(422, "suppress_badge_notification_email must be a boolean")
    locale = payload.get("locale") or "en"
    if not isinstance(locale, str):
        raise ApiError(422, "locale is invalid")
    evidence = _evidence(payload)
    return {
        "recipient_email": fields["recipient_email"],
        "badge_template_id": fields["badge_template_id"],
        "issued_to_first_name": fields["issued_to_first_name"],
        "issued_to_middle_name": _optional_text(payload, "issued_to_middle_name"),
        "issued_to_last_name": fields["issued_to_last_name"],
        "issuer_earner_id": _optional_text(payload, "issuer_earner_id"),
        "issued_at": issued,
        "expires_at": _expires_at(payload, issued),
        "locale": locale,
        "suppress_badge_notification_email": suppress,
        "evidence": evidence,
    }


def validate_replacement(payload: Any, old: dict[str, Any]) -> dict[str, Any]:
    """A replace request names the template and issue time; the recipient stays the old one's."""
    if not isinstance(payload, dict):
        raise ApiError(422, "request body must be a JSON object")
    merged = {
        "recipient_email": old["recipient_email"],
        "issued_to_first_name": old["issued_to_first_name"],
        "issued_to_middle_name": old["issued_to_middle_name"],
        "issued_to_last_name": old["issued_to_last_name"],
        "issuer_earner_id": old["issuer_earner_id"],
        "locale": old["locale"],
        "suppress_badge_notification_email": old["suppress_badge_notification_email"],
    }
    for name in (
        "badge_template_id",
        "issued_at",
        "issued_to_first_name",
        "issued_to_middle_name",
        "issued_to_last_name",
        "expires_at",
        "evidence",
        "locale",
        "suppress_badge_notification_email",
    ):
        if name in payload:
            merged[name] = payload[name]
    return validate_issue(merged)


def new_badge(fields: dict[str, Any]) -> dict[str, Any]:
    """The stored record for validated fields; Credly starts every badge as pending.

    Links and the embedded template are derived when rendering (see `public_badge`), which
    keeps the record small when a backfill holds a hundred thousand of them in memory.
    """
    stamp = iso(now())
    issued: datetime = fields["issued_at"]
    return {
        "id": str(uuid.uuid4()),
        "state": "pending",
        "recipient_email": fields["recipient_email"],
        "issued_to_first_name": fields["issued_to_first_name"],
        "issued_to_middle_name": fields["issued_to_middle_name"],
        "issued_to_last_name": fields["issued_to_last_name"],
        "issuer_earner_id": fields["issuer_earner_id"],
        "issued_at": iso(issued),
        # The calendar day the issuer meant, in the offset they sent, not the UTC day.
        "issued_at_date": issued.date().isoformat(),
        "expires_at": fields["expires_at"],
        "badge_template_id": fields["badge_template_id"],
        "locale": fields["locale"],
        "suppress_badge_notification_email": fields["suppress_badge_notification_email"],
        "evidence": fields["evidence"] or None,
        "created_at": stamp,
        "updated_at": stamp,
        "state_updated_at": stamp,
        "revocation_reason": None,
        "replaces_badge_id": None,
        "replacement_badge_id": None,
    }


def public_badge(record: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    """A stored record as Credly's IssuedBadge; the embedded template is the template today."""
    badge_id = record["id"]
    return {
        "id": badge_id,
        "state": record["state"],
        "recipient_email": record["recipient_email"],
        "issued_to_first_name": record["issued_to_first_name"],
        "issued_to_middle_name": record["issued_to_middle_name"],
        "issued_to_last_name": record["issued_to_last_name"],
        "issuer_earner_id": record["issuer_earner_id"],
        "issued_at": record["issued_at"],
        "issued_at_date": record["issued_at_date"],
        "expires_at": record["expires_at"],
        "badge_template": template_summary(template),
        "accept_badge_url": f"{_WEB}/earner/earned/badge/{badge_id}",
        "badge_url": f"{_WEB}/badges/{badge_id}",
        "image_url": f"{_IMAGES}/badges/{badge_id}/image.png",
        "locale": record["locale"],
        "suppress_badge_notification_email": record["suppress_badge_notification_email"],
        "evidence": record["evidence"] or [],
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "state_updated_at": record["state_updated_at"],
        "revocation_reason": record["revocation_reason"],
        "replaces_badge_id": record["replaces_badge_id"],
        "replacement_badge_id": record["replacement_badge_id"],
    }
