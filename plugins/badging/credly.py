"""Production client for Credly's API v1: typed errors, paced retries, exactly-once issuing."""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as dtime
from itertools import islice
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from badging.constants import AGENCY_TZ
from badging.errors import (
    ConfigurationError,
    CredlyAuthError,
    CredlyDuplicateBadge,
    CredlyError,
    CredlyInvalidRequest,
    CredlyRetryableError,
    CredlyThrottled,
    CredlyTransient,
    CredlyUnknownOutcome,
)
from badging.ratelimit import TokenBucket, shared_limiter

log = logging.getLogger(__name__)

CHICAGO = AGENCY_TZ
# The format Credly documents for issued_at: "2014-04-01 09:41:00 -0500".
ISSUED_AT_FORMAT = "%Y-%m-%d %H:%M:%S %z"
# The substring every known Credly client matches to recognise a duplicate 422.
DUPLICATE_MARKER = "already has this badge"
REVOKED = "revoked"
USER_AGENT = "okcareertech-badging/0.1 (+https://oklahoma.gov/careertech)"
# Threads of one batch share the pool; more than this many would queue for a connection.
POOL_MAXSIZE = 32


# --- payloads ---------------------------------------------------------------------------------


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
        moment = value.astimezone(CHICAGO)
    elif isinstance(value, date):
        moment = datetime.combine(value, dtime(12, 0), tzinfo=CHICAGO)
    else:
        raise TypeError("issued_at must be a datetime or a date")
    return moment.strftime(ISSUED_AT_FORMAT)


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
    """

    recipient_email: str = field(repr=False)
    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    template_id: str
    issued_at: datetime | date
    earner_id: str
    badge_key: str

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
            "issuer_earner_id": self.earner_id,
        }
        if locale:
            payload["locale"] = locale
        if suppress_notification:
            payload["suppress_badge_notification_email"] = True
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
    """The parts of a Credly IssuedBadge the pipeline keeps (no recipient data).

    Attributes:
        id: the Credly badge UUID.
        state: ``pending``, ``accepted``, ``rejected`` or ``revoked``.
        template_id: the badge template UUID.
        issuer_earner_id: the surrogate we sent, or None for badges issued without one.
        issued_at: when Credly says it was issued (UTC), if readable.
        replacement_badge_id: set on a badge that another badge replaced.
    """

    id: str
    state: str
    template_id: str | None
    issuer_earner_id: str | None
    issued_at: datetime | None
    replacement_badge_id: str | None = None

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
        )


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


# --- wire helpers -----------------------------------------------------------------------------


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


# --- the pooled session -----------------------------------------------------------------------

_session: requests.Session | None = None
_session_lock = threading.Lock()


class _RedactQueryStrings(logging.Filter):
    """Drop query strings from urllib3's request lines: a badge lookup's holds an email."""

    _QUERY = re.compile(r"\?\S*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._QUERY.sub("?…", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def _install_redaction() -> None:
    # urllib3 logs every request line, query included, at DEBUG; a worker run at DEBUG
    # would otherwise write earners' emails into the task log.
    pool_log = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactQueryStrings) for f in pool_log.filters):
        pool_log.addFilter(_RedactQueryStrings())


def shared_session() -> requests.Session:
    """Return the process's pooled Session, so every thread and client reuses TLS connections.

    Returns:
        A Session with a connection pool of POOL_MAXSIZE per host and no transport retries
        (retrying is this module's decision, made per error type).
    """
    global _session
    with _session_lock:
        if _session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_MAXSIZE, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _session = session
        return _session


# --- the client -------------------------------------------------------------------------------


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _as_float(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"credly_api extra {name!r} must be a number") from None


def _base_url_from(conn: Any) -> str:
    """Build the API base URL from an Airflow Connection's host, schema and port.

    Accepts the forms people actually enter: host ``https://api.credly.com/v1``; host
    ``api.credly.com/v1`` with schema ``https`` (the HTTP-provider convention); and the URI
    form ``http://:TOKEN@localhost:8080/v1``, where Airflow puts ``v1`` in schema.
    """
    host = (conn.host or "").strip()
    if not host:
        raise ConfigurationError("credly_api connection has no host (the API base URL)")
    schema = (conn.schema or "").strip().strip("/")
    if "://" in host:
        parts = urlsplit(host)
        scheme, netloc, path = parts.scheme, parts.netloc, parts.path
    else:
        netloc, _, rest = host.partition("/")
        path = "/" + rest if rest else ""
        scheme = schema if schema in ("http", "https") else "https"
    if schema and schema not in ("http", "https") and not path.strip("/"):
        path = "/" + schema
    if conn.port and ":" not in netloc.rsplit("@", 1)[-1].strip("[]"):
        netloc = f"{netloc}:{conn.port}"
    # Credly has only ever had /v1; a host entered without it means the API root.
    path = path.rstrip("/") or "/v1"
    return urlunsplit((scheme, netloc, path, "", ""))


# Why a duplicate 422 could not be resolved to this earner's badge, for the operator.
_UNRESOLVED_DUPLICATE = {
    "other_earner": "recipient email already holds this badge under another issuer_earner_id",
    "revoked": "the recipient holds a revoked badge of this template; Credly refuses a new one",
    None: "Credly reports a duplicate but no matching badge was found",
}


@dataclass
class _Written:
    """What a state-changing call produced: a response body, or a badge found after a lost one."""

    body: dict[str, Any] | None = None
    recovered: IssuedBadge | None = None


class CredlyClient:
    """Thread-safe client for one Credly organization.

    Every request goes through the process-wide token bucket and the pooled session, always
    with connect and read timeouts. Throttling, 5xx and network failures are retried here
    with exponential backoff and full jitter (Retry-After honoured across threads); writes
    whose response was lost are looked up before being sent again.

    Args:
        base_url: API root including ``/v1``, e.g. ``https://api.credly.com/v1``.
        token: the organization's authorization token (HTTP Basic username).
        organization_id: the organization UUID.
        connect_timeout: seconds to establish a connection.
        read_timeout: seconds to wait for a response.
        max_attempts: tries per call, the first included.
        backoff_base: first backoff ceiling in seconds; doubles every attempt.
        backoff_cap: largest backoff ceiling in seconds.
        max_retry_after: longest Retry-After honoured in-process; beyond it the call fails with
            CredlyThrottled so the task can retry later instead of sleeping in a worker slot.
        rate_limit_per_s: request ceiling for the whole process; None for no limit.
        rate_limit_burst: tokens that may be spent at once after idling.
        locale: earner email locale sent with each badge; omitted when None.
        suppress_notification: ask Credly not to email earners.
        session: a requests Session to use instead of the shared one.
        limiter: a TokenBucket to use instead of the shared one.

    Raises:
        ConfigurationError: if the base URL, token or organization id is missing.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        organization_id: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_retry_after: float = 300.0,
        rate_limit_per_s: float | None = None,
        rate_limit_burst: int | None = None,
        locale: str | None = None,
        suppress_notification: bool = False,
        session: requests.Session | None = None,
        limiter: TokenBucket | None = None,
    ) -> None:
        if not base_url or not base_url.strip():
            raise ConfigurationError("Credly base URL is missing")
        if not token or not token.strip():
            raise ConfigurationError("Credly token is missing (connection password)")
        if not organization_id or not str(organization_id).strip():
            raise ConfigurationError("Credly organization_id is missing (connection extra)")
        if max_attempts < 1:
            raise ConfigurationError("max_attempts must be at least 1")
        self.base_url = base_url.strip().rstrip("/")
        self.organization_id = str(organization_id).strip()
        self._auth = (token.strip(), "")
        self.timeout = (float(connect_timeout), float(read_timeout))
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_after = max_retry_after
        self.locale = locale
        self.suppress_notification = suppress_notification
        self._session = session
        self._limiter = limiter or shared_limiter(rate_limit_per_s, rate_limit_burst)
        _install_redaction()

    def __repr__(self) -> str:
        # Never the token.
        return f"CredlyClient({self.base_url!r}, organization_id={self.organization_id!r})"

    @classmethod
    def from_connection(cls, conn_id: str = "credly_api", **overrides: Any) -> CredlyClient:
        """Build a client from an Airflow connection.

        The connection's host is the API base URL (``/v1`` included), its password the token
        (so Airflow masks it in logs), and its extra holds ``organization_id`` plus optional
        ``rate_limit_per_s``, ``rate_limit_burst``, ``locale``,
        ``suppress_badge_notification_email``, ``connect_timeout``, ``read_timeout``.

        Args:
            conn_id: the Airflow connection id.
            **overrides: keyword arguments for the constructor that win over the connection.

        Returns:
            A configured client.

        Raises:
            ConfigurationError: if the host, token or organization id is missing or malformed.
        """
        # Imported here so this module (and its tests) load without Airflow.
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
        extra = conn.extra_dejson or {}
        if not conn.password and conn.login:
            raise ConfigurationError(
                f"connection {conn_id!r}: put the Credly token in the password field "
                "(Airflow masks passwords, not logins)"
            )
        options: dict[str, Any] = {
            "locale": extra.get("locale") or None,
            "suppress_notification": _as_bool(
                extra.get("suppress_badge_notification_email", False)
            ),
            "rate_limit_per_s": _as_float(extra.get("rate_limit_per_s"), "rate_limit_per_s"),
        }
        burst = _as_float(extra.get("rate_limit_burst"), "rate_limit_burst")
        if burst is not None:
            options["rate_limit_burst"] = int(burst)
        for name in ("connect_timeout", "read_timeout"):
            value = _as_float(extra.get(name), name)
            if value is not None:
                options[name] = value
        options.update(overrides)
        return cls(
            _base_url_from(conn),
            conn.password or "",
            str(extra.get("organization_id") or ""),
            **options,
        )

    # --- transport ----------------------------------------------------------------------

    def _url(self, *parts: str) -> str:
        return "/".join([self.base_url, "organizations", self.organization_id, *parts])

    def _same_origin(self, url: str) -> str:
        """Resolve a next_page_url against the base, refusing to send the token elsewhere."""
        absolute = urljoin(self.base_url + "/", url)
        target, base = urlsplit(absolute), urlsplit(self.base_url)
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            # Credly may name itself differently (a proxy, 127.0.0.1 vs localhost); keep the
            # path and query but send them only to the host we were configured with.
            absolute = urlunsplit((base.scheme, base.netloc, target.path, target.query, ""))
        return absolute

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        badge_key: str | None = None,
    ) -> dict[str, Any]:
        """Make one request (no retries) and return the decoded body, or raise a typed error."""
        write = method != "GET"
        self._limiter.acquire()
        session = self._session or shared_session()
        try:
            response = session.request(
                method,
                url,
                params=params,
                json=json,
                auth=self._auth,
                timeout=self.timeout,
                headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            )
        except requests.RequestException as exc:
            # "from None": the original message and chain hold the URL, query included.
            raise classify_transport_error(exc, write=write, badge_key=badge_key) from None
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = None
        if 200 <= response.status_code < 300:
            # Every call made here answers with a data envelope; anything else (an empty body,
            # a proxy's HTML page) tells us nothing about what happened.
            if not isinstance(body, dict) or "data" not in body:
                kind = CredlyUnknownOutcome if write else CredlyTransient
                raise kind(
                    "Credly answered with an unreadable body",
                    status=response.status_code,
                    badge_key=badge_key,
                )
            return body
        raise classify_response(
            response.status_code,
            body,
            response.headers.get("Retry-After"),
            write=write,
            badge_key=badge_key,
        )

    def _backoff_delay(self, attempt: int) -> float:
        # Full jitter (AWS architecture blog): spreads retries of many threads evenly.
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))

    def _wait_before_retry(
        self, error: CredlyRetryableError, attempt: int, method: str, url: str
    ) -> None:
        """Sleep before the next attempt; a 429 pauses every thread of the process.

        Raises:
            CredlyThrottled: when Credly asks for a longer wait than max_retry_after.
        """
        if isinstance(error, CredlyThrottled):
            delay = error.retry_after
            if delay is None:
                delay = self._backoff_delay(attempt)
            if delay > self.max_retry_after:
                self._limiter.pause_until(time.monotonic() + self.max_retry_after)
                log.warning(
                    "Credly asked to wait %.0fs (over the %.0fs limit); giving up [badge %s]",
                    delay, self.max_retry_after, error.badge_key or "-",
                )
                raise error
            self._limiter.pause_until(time.monotonic() + delay)
        else:
            delay = self._backoff_delay(attempt)
        log.warning(
            "Credly %s %s: %s (%s); attempt %d/%d, retrying in %.2fs [badge %s]",
            method, urlsplit(url).path, type(error).__name__, error.status or "no response",
            attempt, self.max_attempts, delay, error.badge_key or "-",
        )
        if isinstance(error, CredlyThrottled):
            self._limiter.wait_if_paused()
        else:
            time.sleep(delay)

    def _get(
        self, url: str, params: Mapping[str, Any] | None = None, badge_key: str | None = None
    ) -> dict[str, Any]:
        """GET with retries on 429, 5xx and network failures (reads are safe to repeat)."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._send("GET", url, params=params, badge_key=badge_key)
            except CredlyRetryableError as error:
                if attempt == self.max_attempts:
                    raise
                self._wait_before_retry(error, attempt, "GET", url)
        raise AssertionError("unreachable")  # pragma: no cover

    def _write(
        self,
        method: str,
        url: str,
        payload: Mapping[str, Any],
        *,
        badge_key: str | None,
        recover: Callable[[], IssuedBadge | None],
    ) -> _Written:
        """Send a non-idempotent write, looking its effect up before ever sending it again.

        ``recover`` returns the badge the write would have produced if Credly already has it.
        It runs after every attempt whose outcome is unknown (5xx, lost response), and after
        the backoff, so a slow commit has time to land.

        Raises:
            CredlyError: the rejection (4xx), or the last retryable error when attempts run out.
        """
        maybe_applied = False
        # Sticky: a write whose answer was lost may still land after a lookup missed it
        # (a slow commit), and then our own next attempt is refused as a duplicate.
        lost_before = False
        for attempt in range(1, self.max_attempts + 1):
            if maybe_applied:
                found = self._recover(recover, badge_key)
                if found is not None:
                    return _Written(recovered=found)
                maybe_applied = False
            try:
                return _Written(body=self._send(method, url, json=payload, badge_key=badge_key))
            except CredlyDuplicateBadge:
                if lost_before and (found := self._recover(recover, badge_key)):
                    return _Written(recovered=found)
                raise
            except CredlyRetryableError as error:
                maybe_applied = isinstance(error, CredlyUnknownOutcome)
                lost_before = lost_before or maybe_applied
                if attempt == self.max_attempts:
                    if lost_before and (found := self._recover(recover, badge_key)):
                        return _Written(recovered=found)
                    if lost_before and not maybe_applied:
                        # Only throttled at the end, but an earlier try may yet land: the
                        # caller must look before sending this again.
                        raise CredlyUnknownOutcome(
                            "a write's response was lost and it is not found yet",
                            status=error.status, badge_key=badge_key) from None
                    raise
                self._wait_before_retry(error, attempt, method, url)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _recover(
        recover: Callable[[], IssuedBadge | None], badge_key: str | None
    ) -> IssuedBadge | None:
        try:
            found = recover()
        except CredlyRetryableError:
            # The lookup already retried; the write's fate is still unknown, which the caller
            # must know (the ledger keeps the row in flight and looks again next time).
            raise CredlyUnknownOutcome(
                "a write's response was lost and looking it up failed", badge_key=badge_key
            ) from None
        if found is not None:
            log.info("Credly lookup found the result of a lost response [badge %s]", badge_key)
        return found

    def _paged(self, url: str, params: Mapping[str, Any] | None) -> Iterator[dict[str, Any]]:
        """Yield every item of a paged list, following metadata.next_page_url until null."""
        seen: set[str] = set()
        next_url: str | None = url
        next_params = params
        while next_url:
            if next_url in seen:
                raise CredlyTransient("Credly's pagination went round in a loop")
            seen.add(next_url)
            body = self._get(next_url, next_params)
            yield from body.get("data") or []
            metadata = body.get("metadata") or {}
            link = metadata.get("next_page_url")
            # The link already carries the filter and page; sending params again would clash.
            next_url, next_params = (self._same_origin(link), None) if link else (None, None)

    # --- badges -------------------------------------------------------------------------

    def issue_badge(self, req: BadgeRequest) -> IssueResult:
        """Issue one badge, exactly once, however the network behaves.

        A duplicate 422 resolves to the earner's existing badge (``already_issued``). A lost
        response (5xx, read timeout, dropped connection) is looked up before the POST is ever
        repeated; a badge found that way is ``issued`` with ``recovered=True``.

        Args:
            req: the badge to issue.

        Returns:
            The IssueResult.

        Raises:
            CredlyAuthError: the token is rejected (stop the batch).
            CredlyInvalidRequest: Credly refused this badge (template archived, bad field, or a
                duplicate held by another earner).
            CredlyThrottled, CredlyTransient, CredlyUnknownOutcome: still failing after
                max_attempts; CredlyUnknownOutcome means Credly may hold the badge.
        """
        payload = req.to_payload(self.locale, self.suppress_notification)
        try:
            written = self._write(
                "POST",
                self._url("badges"),
                payload,
                badge_key=req.badge_key,
                recover=lambda: self.find_existing_badge(req),
            )
        except CredlyDuplicateBadge:
            existing, obstacle = self._lookup_existing(req)
            if existing is None and obstacle is None:
                existing = self._lookup_by_earner_id(req)
            if existing is None:
                raise CredlyInvalidRequest(
                    _UNRESOLVED_DUPLICATE[obstacle], status=422, badge_key=req.badge_key
                ) from None
            # Never the Credly badge id: its public page names the earner. The ledger keeps it.
            log.info("Credly already had this badge [badge %s]", req.badge_key)
            return IssueResult(existing, "already_issued", recovered=False)
        if written.recovered is not None:
            return IssueResult(written.recovered, "issued", recovered=True)
        badge = IssuedBadge.from_api(written.body["data"])
        # One line per badge is the audit log's job; the task log keeps the batch's progress.
        log.debug("Credly issued [badge %s]", req.badge_key)
        return IssueResult(badge, "issued", recovered=False)

    def get_badge(self, badge_id: str) -> IssuedBadge | None:
        """Fetch one badge.

        Args:
            badge_id: the Credly badge UUID.

        Returns:
            The badge, or None if Credly has no such badge.

        Raises:
            CredlyAuthError, CredlyInvalidRequest, CredlyRetryableError: as for any call.
        """
        try:
            body = self._get(self._url("badges", badge_id))
        except CredlyInvalidRequest as error:
            if error.status == 404:
                return None
            raise
        return IssuedBadge.from_api(body["data"])

    def find_badges(
        self, filters: Mapping[str, str | Sequence[str]], sort: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield the organization's badges matching a filter, across all pages.

        Args:
            filters: e.g. ``{"badge_template_id": tid, "state": ["pending", "accepted"]}``.
            sort: Credly sort expression, e.g. ``"-issued_at"``.

        Returns:
            An iterator of raw IssuedBadge dicts (they hold recipient data: do not log them).

        Raises:
            ValueError: if a filter value holds a separator.
            CredlyAuthError, CredlyInvalidRequest, CredlyRetryableError: as for any call.
        """
        params = {"filter": encode_filter(filters)} if filters else {}
        if sort:
            params["sort"] = sort
        return self._paged(self._url("badges"), params)

    def _lookup_existing(self, req: BadgeRequest) -> tuple[IssuedBadge | None, str | None]:
        """Find the earner's live badge for req's template by template and email.

        Credly calls a badge a duplicate on the same template and the same email (or user, or
        earner id). Siblings often share a parent's email, so a badge held under a different
        issuer_earner_id is not this earner's: taking it would record the wrong badge. A badge
        with no earner id (issued by hand before this system) is accepted as the earner's.

        Returns:
            (badge, None) when found; otherwise (None, why), why being ``"other_earner"``,
            ``"revoked"`` or None when Credly has nothing for this email and template.
        """
        filters = {"badge_template_id": req.template_id, "recipient_email": req.recipient_email}
        try:
            candidates = self.find_badges(filters, sort="-issued_at")
        except ValueError:
            # An email holding "|" or "," cannot be expressed as a filter; Credly's own
            # duplicate check still guards a repeated POST.
            return None, None
        email = req.recipient_email.strip().lower()
        exact = unclaimed = None
        obstacle = None
        for item in candidates:
            badge = IssuedBadge.from_api(item)
            if badge.template_id and badge.template_id != req.template_id:
                continue
            # The server filtered by email already; this guards against a looser match
            # (Credly's filters are not all exact), trusting it when the field is absent.
            listed = str(item.get("recipient_email") or "").strip().lower()
            if listed and listed != email:
                continue
            if badge.state == REVOKED:
                obstacle = obstacle or "revoked"
            elif badge.issuer_earner_id == req.earner_id:
                exact = exact or badge
            elif badge.issuer_earner_id is None:
                unclaimed = unclaimed or badge
            else:
                obstacle = "other_earner"
        found = exact or unclaimed
        return found, (None if found else obstacle)

    def _lookup_by_earner_id(self, req: BadgeRequest) -> IssuedBadge | None:
        """Find the earner's badge by issuer_earner_id, for a duplicate under an older email.

        Credly's support for this filter is not confirmed: a refusal means "not found", and
        only the first page is read, each item checked here, so a server that ignored the
        filter costs one request rather than a walk through the whole template.
        """
        filters = {"badge_template_id": req.template_id, "issuer_earner_id": req.earner_id}
        try:
            for item in islice(self.find_badges(filters), 50):
                badge = IssuedBadge.from_api(item)
                if (
                    badge.issuer_earner_id == req.earner_id
                    and badge.state != REVOKED
                    and badge.template_id in (None, req.template_id)
                ):
                    return badge
        except (ValueError, CredlyInvalidRequest):
            return None
        return None

    def find_existing_badge(self, req: BadgeRequest) -> IssuedBadge | None:
        """Find the live badge this request would duplicate, if the earner already holds one.

        Looks up by template and recipient email, skips revoked badges, prefers the badge whose
        issuer_earner_id matches and accepts one with none; a badge under another earner's id
        is not returned.

        Args:
            req: the badge request.

        Returns:
            The existing badge, or None.

        Raises:
            CredlyAuthError, CredlyInvalidRequest, CredlyRetryableError: as for any call.
        """
        return self._lookup_existing(req)[0]

    def revoke_badge(
        self, badge_id: str, reason: str, suppress_notification: bool = False
    ) -> IssuedBadge:
        """Revoke a badge; revoking one that is already revoked returns it unchanged.

        Args:
            badge_id: the Credly badge UUID.
            reason: shown to the earner; Credly effectively requires one.
            suppress_notification: ask Credly not to email the earner.

        Returns:
            The revoked badge.

        Raises:
            ValueError: if reason is empty.
            CredlyAuthError, CredlyInvalidRequest, CredlyRetryableError: as for any call.
        """
        if not reason or not reason.strip():
            raise ValueError("a revocation reason is required")
        key = f"credly#{badge_id}"

        def already_revoked() -> IssuedBadge | None:
            badge = self.get_badge(badge_id)
            return badge if badge is not None and badge.state == REVOKED else None

        payload = {"reason": reason, "suppress_revoke_notification_email": suppress_notification}
        try:
            written = self._write(
                "PUT", self._url("badges", badge_id, "revoke"), payload,
                badge_key=key, recover=already_revoked,
            )
        except CredlyInvalidRequest as error:
            # Re-running a revocation must not fail because the first one worked.
            if error.status == 422 and (badge := already_revoked()) is not None:
                return badge
            raise
        if written.recovered is not None:
            return written.recovered
        return IssuedBadge.from_api(written.body["data"])

    def replace_badge(
        self,
        badge_id: str,
        template_id: str,
        issued_at: datetime | date,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        badge_key: str | None = None,
    ) -> IssuedBadge:
        """Replace a badge with one of another template (Credly: POST …/badges/{id}/replace).

        Args:
            badge_id: the badge to replace.
            template_id: the new badge's template.
            issued_at: the new badge's issue moment or date (see format_issued_at).
            first_name: a corrected first name, if any.
            last_name: a corrected last name, if any.
            badge_key: surrogate for logs and errors.

        Returns:
            The new badge (its replaces_badge_id is badge_id).

        Raises:
            CredlyAuthError, CredlyInvalidRequest, CredlyRetryableError: as for any call.
        """
        key = badge_key or f"credly#{badge_id}"
        payload: dict[str, Any] = {
            "badge_template_id": template_id,
            "issued_at": format_issued_at(issued_at),
        }
        if first_name:
            payload["issued_to_first_name"] = first_name
        if last_name:
            payload["issued_to_last_name"] = last_name

        def replacement() -> IssuedBadge | None:
            old = self.get_badge(badge_id)
            if old is None or old.replacement_badge_id is None:
                return None
            return self.get_badge(old.replacement_badge_id)

        written = self._write(
            "POST", self._url("badges", badge_id, "replace"), payload,
            badge_key=key, recover=replacement,
        )
        if written.recovered is not None:
            return written.recovered
        return IssuedBadge.from_api(written.body["data"])

    # --- templates and organization ------------------------------------------------------

    def list_templates(self, state: str | None = None) -> list[dict[str, Any]]:
        """List the organization's badge templates, all pages.

        Args:
            state: ``active``, ``draft`` or ``archived``; None for all.

        Returns:
            Template dicts (id, name, state, allow_duplicate_badges, …).

        Raises:
            CredlyAuthError, CredlyInvalidRequest, CredlyRetryableError: as for any call.
        """
        params = {"filter": encode_filter({"state": state})} if state else {}
        return list(self._paged(self._url("badge_templates"), params))

    def get_template(self, template_id: str) -> dict[str, Any] | None:
        """Fetch one badge template.

        Args:
            template_id: the template UUID.

        Returns:
            The template dict, or None if Credly has no such template.

        Raises:
            CredlyAuthError, CredlyInvalidRequest, CredlyRetryableError: as for any call.
        """
        try:
            return self._get(self._url("badge_templates", template_id))["data"]
        except CredlyInvalidRequest as error:
            if error.status == 404:
                return None
            raise

    def get_organization(self) -> dict[str, Any]:
        """Fetch the organization: a cheap check that the token and organization id work.

        Returns:
            The organization dict (id, name, …).

        Raises:
            CredlyAuthError: the token is wrong, expired or not for this organization.
            CredlyInvalidRequest: no such organization (404).
            CredlyRetryableError: Credly unreachable after retries.
        """
        return self._get(self._url())["data"]
