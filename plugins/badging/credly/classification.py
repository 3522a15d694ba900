"""Credly's wire conventions and error classification: every failure becomes a typed error."""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from badging.core.errors import (
    ConfigurationError,
    CredlyAuthError,
    CredlyDuplicateBadge,
    CredlyError,
    CredlyInvalidRequest,
    CredlyThrottled,
    CredlyTransient,
    CredlyUnknownOutcome,
    CredlyUnresolvedDuplicate,
)

# The substring every known Credly client matches to recognise a duplicate 422.
DUPLICATE_MARKER = "already has this badge"

def encode_filter(filters: Mapping[str, str | Sequence[str]]) -> str:
    """Build Credly's ``filter`` query value: ``key::value|key::value``, commas between values.

    The result is plain text; requests URL-encodes it as a whole when it is sent as a param.

    Args:
        filters: key to one value or a list of values.

    Returns:
        The filter expression.

    Raises:
        ValueError: if a key or value holds a separator (``|``, ``,`` or ``::``) that would
            change the expression's meaning. The message never repeats the value.
    """
    terms = []
    for key, raw in filters.items():
        values = [raw] if isinstance(raw, str) else list(raw)
        if not values or not re.fullmatch(r"[A-Za-z0-9_.]+", key):
            raise ValueError(f"filter {key!r} needs a simple key and at least one value")
        for value in values:
            if "|" in value or "," in value or "::" in value:
                raise ValueError(f"a value of filter {key!r} holds a filter separator")
        terms.append(f"{key}::{','.join(values)}")
    return "|".join(terms)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Read a Retry-After header: delta-seconds or an HTTP date.

    Args:
        value: the header value, or None.
        now: the current time, for HTTP dates (default: the system clock).

    Returns:
        Seconds to wait (never negative), or None when absent or unreadable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


# Credly's 422 messages can echo submitted values (an email, a name), so the raw text never
# reaches a log or an exception. Known situations map to fixed wording; anything else is
# reported by the payload fields it mentions, which are our own constants.
_KNOWN_MESSAGES = (
    (DUPLICATE_MARKER, "recipient already has this badge"),
    ("archived", "badge template is archived"),
    ("not active", "badge template is not active"),
    ("inactive", "badge template is not active"),
    ("organization not found", "organization not found"),
    ("template not found", "badge template not found"),
    ("badge not found", "badge not found"),
    ("already been revoked", "badge is already revoked"),
    ("already been replaced", "badge is already replaced"),
)
_FIELD_PATTERNS = {
    "recipient_email": r"recipient[ _]email|\bemail\b",
    "badge_template_id": r"badge[ _]template|\btemplate\b",
    "issued_to_first_name": r"first[ _]name",
    "issued_to_last_name": r"last[ _]name",
    "issued_at": r"issued[ _]at",
    "issuer_earner_id": r"earner[ _]id",
    "expires_at": r"expires[ _]at",
    "locale": r"\blocale\b",
    "reason": r"\breason\b",
}
_GENERIC_DETAIL = {
    400: "Credly rejected the request as malformed",
    401: "Credly rejected the token (wrong or expired)",
    403: "the Credly token lacks permission for this call",
    404: "Credly has no such organization, template or badge",
    408: "Credly timed out reading the request",
    422: "Credly rejected the badge as invalid",
    429: "Credly is throttling requests",
}


def refuses_template_or_organization(error: CredlyError) -> bool:
    """Whether a 4xx refuses the template or the organization rather than one badge: a 404
    on the badge collection (no such organization or template), or wording naming the
    template (archived, not active, not found). Every badge of it would be refused alike.
    A duplicate that is not this earner's is about one badge, whatever its wording."""
    if isinstance(error, CredlyUnresolvedDuplicate):
        return False
    return error.status == 404 or "template" in error.detail


def _credly_message(body: Any) -> str:
    if isinstance(body, Mapping):
        data = body.get("data")
        if isinstance(data, Mapping) and isinstance(data.get("message"), str):
            return data["message"]
        if isinstance(body.get("message"), str):
            return body["message"]
    return ""


def safe_detail(status: int, body: Any) -> str:
    """Describe a Credly error response without repeating anything it may echo back.

    Args:
        status: the HTTP status.
        body: the decoded JSON body (or None).

    Returns:
        A PII-free description: fixed wording for known messages, else a generic text per
        status plus the names of payload fields the message mentions.
    """
    message = _credly_message(body).lower()
    for marker, wording in _KNOWN_MESSAGES:
        if marker in message:
            return wording
    detail = _GENERIC_DETAIL.get(status) or (
        "Credly server error" if status >= 500 else "Credly refused the request"
    )
    fields = [name for name, pattern in _FIELD_PATTERNS.items() if re.search(pattern, message)]
    if fields:
        detail += " (fields: " + ", ".join(fields) + ")"
    return detail


def classify_response(
    status: int,
    body: Any,
    retry_after: str | None = None,
    *,
    write: bool,
    badge_key: str | None = None,
) -> CredlyError:
    """Turn a non-2xx response into the typed error that says what to do next.

    Args:
        status: the HTTP status (not 2xx).
        body: the decoded JSON body, or None.
        retry_after: the Retry-After header, if any.
        write: True for a call that changes state (POST/PUT): a 5xx then leaves the outcome
            unknown, since the server may have committed before failing.
        badge_key: the surrogate to carry on the error.

    Returns:
        The error to raise.
    """
    detail = safe_detail(status, body)
    if status in (401, 403):
        return CredlyAuthError(detail, status=status, badge_key=badge_key)
    if status == 429:
        return CredlyThrottled(
            detail, status=status, badge_key=badge_key, retry_after=parse_retry_after(retry_after)
        )
    if status == 422 and DUPLICATE_MARKER in _credly_message(body).lower():
        return CredlyDuplicateBadge(detail, status=status, badge_key=badge_key)
    if status >= 500:
        kind = CredlyUnknownOutcome if write else CredlyTransient
        return kind(detail, status=status, badge_key=badge_key)
    if status == 408:
        # The server gave up reading the request, so it did not act on it.
        return CredlyTransient(detail, status=status, badge_key=badge_key)
    return CredlyInvalidRequest(detail, status=status, badge_key=badge_key)


def _never_connected(exc: BaseException) -> bool:
    """True when the request certainly never reached the server (refused, DNS, connect timeout)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError):
            return True
        stack.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
    return False


def classify_transport_error(
    exc: requests.RequestException, *, write: bool, badge_key: str | None = None
) -> CredlyError | ConfigurationError:
    """Turn a requests exception (no response) into a typed error.

    The original message is dropped: requests puts the full URL in it, and a lookup URL
    carries the recipient's email in its query string.

    Args:
        exc: what requests raised.
        write: True for a state-changing call.
        badge_key: the surrogate to carry on the error.

    Returns:
        ConfigurationError for a malformed base URL; CredlyTransient when the request never
        left (or for reads); CredlyUnknownOutcome when a write may have reached Credly.
    """
    if isinstance(
        exc,
        requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema,
    ):
        return ConfigurationError("the Credly base URL is not a valid http(s) URL")
    what = type(exc).__name__
    if _never_connected(exc):
        return CredlyTransient(f"could not connect to Credly ({what})", badge_key=badge_key)
    if write:
        return CredlyUnknownOutcome(
            f"no response from Credly after sending ({what}); it may have been applied",
            badge_key=badge_key,
        )
    return CredlyTransient(f"no response from Credly ({what})", badge_key=badge_key)

