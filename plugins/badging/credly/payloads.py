"""Credly's badge payloads: the issue request we send and the parts of an IssuedBadge we keep."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as dtime
from typing import Any, Literal

from badging.core.constants import AGENCY_TZ
from badging.core.names import NameKey

# The format Credly documents for issued_at: "2014-04-01 09:41:00 -0500".
ISSUED_AT_FORMAT = "%Y-%m-%d %H:%M:%S %z"
REVOKED = "revoked"
EXPIRED = "expired"

def format_issued_at(value: datetime | date) -> str:
    """Render a moment or a day as Credly's ``issued_at`` text, in Oklahoma time.

    A plain date (CTIMS records the test date, not the time) becomes noon in Chicago: Credly
    stores issued_at in UTC and shows it in the viewer's zone, and noon is the only hour that
    lands on the same calendar day everywhere from Hawaii to central Europe, so the badge
    shows the day the student actually tested.

    Args:
        value: a timezone-aware datetime, or a date.

    Returns:
        Text like ``"2024-07-01 12:00:00 -0500"`` (-0500 in daylight time, -0600 otherwise).

    Raises:
        ValueError: for a naive datetime, whose moment cannot be known.
        TypeError: for anything that is neither a date nor a datetime.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("issued_at must be timezone-aware")
        moment = value.astimezone(AGENCY_TZ)
    elif isinstance(value, date):
        moment = datetime.combine(value, dtime(12, 0), tzinfo=AGENCY_TZ)
    else:
        raise TypeError("issued_at must be a datetime or a date")
    return moment.strftime(ISSUED_AT_FORMAT)


@dataclass(frozen=True)
class Expiry:
    """What a badge's ``expires_at`` says to Credly (https://www.credly.com/docs/issued_badges):
    a moment (rendered like issued_at, in Oklahoma time), ``never`` (sent as ``false``), or
    neither: the field is left out and Credly applies the template's default."""

    at: datetime | None = None
    never: bool = False

    def __post_init__(self) -> None:
        if self.at is not None and self.never:
            raise ValueError("an expiry is a moment or never, not both")
        if self.at is not None and (self.at.tzinfo is None or self.at.utcoffset() is None):
            raise ValueError("expires_at must be timezone-aware")

    def field(self) -> dict[str, Any]:
        """The payload's expires_at entry: {} for the template default."""
        if self.at is not None:
            return {"expires_at": format_issued_at(self.at)}
        return {"expires_at": False} if self.never else {}


TEMPLATE_DEFAULT = Expiry()
# Where a template in Credly's list carries its default expiry, in days after issue. Credly's
# help centre documents a template-level default expiration; its field in the API is not
# documented, and this is our reading (docs/credly-api.md): one name, read in one place.
TEMPLATE_EXPIRY_FIELD = "expires_in_days"


def template_expiry_days(template: Mapping[str, Any]) -> int | None:
    """A template's default expiry in days, or None: it sets none (its badges never expire
    unless issued with an expires_at) or says something this reading does not know."""
    value = template.get(TEMPLATE_EXPIRY_FIELD)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value


@dataclass(frozen=True)
class BadgeRequest:
    """One badge to issue: the body of ``POST /organizations/{org}/badges``.

    See https://www.credly.com/docs/issued_badges ("Issue a badge"). Names and the email are
    kept out of ``repr`` so a logged request or a traceback cannot leak them.

    Attributes:
        recipient_email: where Credly sends the claim email (PII).
        first_name: issued_to_first_name (PII).
        last_name: issued_to_last_name (PII).
        template_id: the Credly badge template UUID.
        issued_at: a timezone-aware datetime, or the date earned (see format_issued_at).
        earner_id: a stable surrogate for the student, sent as issuer_earner_id; never the raw id.
        badge_key: a non-PII surrogate for logs and errors, e.g. ``"issuance#123"``.
        email_shared: another student of the issuer uses the same email (siblings and a
            parent's address): a badge found under it without an earner id may be theirs.
        send_earner_id: False for a badge moved to a corrected address while the earner's
            old badge is still live: Credly refuses a second live badge of a template with the
            same issuer_earner_id (docs/recipient-corrections.md).
        expiry: the badge's expires_at (badging.core.validity); the template's default when
            the validity is not known.
        evidence: Credly evidence objects (badging.reports.evidence): CTIMS names and ids,
            never student data; none sent when empty.
    """

    recipient_email: str = field(repr=False)
    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    template_id: str
    issued_at: datetime | date
    earner_id: str
    badge_key: str
    email_shared: bool = False
    send_earner_id: bool = True
    expiry: Expiry = TEMPLATE_DEFAULT
    evidence: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        for name in ("recipient_email", "first_name", "last_name", "template_id", "earner_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"BadgeRequest.{name} is required ({self.badge_key})")
        # Fails early (naive datetime, wrong type) rather than at POST time.
        format_issued_at(self.issued_at)

    def to_payload(
        self, locale: str | None = None, suppress_notification: bool = False
    ) -> dict[str, Any]:
        """Build the JSON body Credly expects.

        Args:
            locale: Credly locale for the earner's emails (e.g. ``"en"``); omitted when None.
            suppress_notification: ask Credly not to email the earner.

        Returns:
            The request body as a dict.
        """
        payload: dict[str, Any] = {
            "recipient_email": self.recipient_email,
            "badge_template_id": self.template_id,
            "issued_to_first_name": self.first_name,
            "issued_to_last_name": self.last_name,
            "issued_at": format_issued_at(self.issued_at),
        }
        if self.send_earner_id:
            payload["issuer_earner_id"] = self.earner_id
        if locale:
            payload["locale"] = locale
        if suppress_notification:
            payload["suppress_badge_notification_email"] = True
        payload.update(self.expiry.field())
        if self.evidence:
            payload["evidence"] = [dict(item) for item in self.evidence]
        return payload


def _parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.strptime(value, ISSUED_AT_FORMAT)
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class IssuedBadge:
    """The parts of a Credly IssuedBadge the pipeline keeps (no recipient data). Its ids are
    kept out of ``repr``: a badge's public page names its earner.

    Attributes:
        id: the Credly badge UUID.
        state: ``pending``, ``accepted``, ``rejected``, ``revoked`` or ``expired``.
        template_id: the badge template UUID.
        issuer_earner_id: the surrogate we sent, or None for badges issued without one.
        issued_at: when Credly says it was issued (UTC), if readable.
        replacement_badge_id: set on a badge that another badge replaced.
        state_updated_at: when Credly says the state last changed (an acceptance's time).
        expires_at: when Credly says the badge expires; None: never.
    """

    id: str = field(repr=False)
    state: str
    template_id: str | None
    issuer_earner_id: str | None
    issued_at: datetime | None
    replacement_badge_id: str | None = field(default=None, repr=False)
    state_updated_at: datetime | None = None
    expires_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        """Credly calls it expired, or its expiry has passed (Credly may mark it late)."""
        return self.state == EXPIRED or (self.expires_at is not None and now >= self.expires_at)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> IssuedBadge:
        """Read an IssuedBadge object from a Credly response's ``data``.

        Args:
            data: one IssuedBadge as Credly returns it.

        Returns:
            The parsed badge.

        Raises:
            KeyError: if the object has no id.
        """
        template = data.get("badge_template")
        template_id = template.get("id") if isinstance(template, Mapping) else None
        return cls(
            id=str(data["id"]),
            state=str(data.get("state") or ""),
            template_id=template_id or data.get("badge_template_id"),
            issuer_earner_id=data.get("issuer_earner_id") or None,
            issued_at=_parse_timestamp(data.get("issued_at")),
            replacement_badge_id=data.get("replacement_badge_id") or None,
            state_updated_at=_parse_timestamp(data.get("state_updated_at")),
            expires_at=_parse_timestamp(data.get("expires_at")),
        )


@dataclass(frozen=True)
class BadgeHolder:
    """Whom a badge Credly holds was issued to, for matching it to a student (PII: compared
    in memory, never logged or kept; repr hides it).

    Attributes:
        email: the recipient address, normalised; "" when Credly leaves it out.
        name: the issued_to first and last name, folded (badging.core.names).
    """

    email: str = field(repr=False)
    name: NameKey = field(repr=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> BadgeHolder:
        """Read the recipient of one IssuedBadge as Credly returns it."""
        return cls(str(data.get("recipient_email") or "").strip().lower(),
                   NameKey.of(data.get("issued_to_first_name"),
                              data.get("issued_to_last_name")))


@dataclass(frozen=True)
class IssueResult:
    """What issue_badge achieved.

    Attributes:
        badge: the badge now held by the earner.
        outcome: ``issued`` (this call created it) or ``already_issued`` (Credly had it already).
        recovered: True when a response was lost and the badge was found by looking it up.
    """

    badge: IssuedBadge
    outcome: Literal["issued", "already_issued"]
    recovered: bool = False

