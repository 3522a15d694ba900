"""Credly's transport: the pooled session, one paced request, retries and look-up-before-re-POST."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from badging.core.errors import (
    CredlyDuplicateBadge,
    CredlyError,
    CredlyRetryableError,
    CredlyThrottled,
    CredlyTransient,
    CredlyUnknownOutcome,
)
from badging.credly.classification import classify_response, classify_transport_error
from badging.credly.logs import install_redaction, redacted
from badging.credly.payloads import IssuedBadge
from badging.credly.ratelimit import TokenBucket
from badging.credly.retry import stop_when_throttled_longer_than, wait_retry_after

log = logging.getLogger(__name__)

USER_AGENT = "okcareertech-badging/0.1 (+https://oklahoma.gov/careertech)"
# Threads of one batch share the pool; more than this many would queue for a connection.
POOL_MAXSIZE = 32

# --- the pooled session -----------------------------------------------------------------------

_session: requests.Session | None = None
_session_lock = threading.Lock()


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


@dataclass
class _WriteCall:
    """One non-idempotent call across its attempts (CredlyTransport.write)."""

    method: str
    url: str
    payload: Mapping[str, Any]
    badge_key: str | None
    recover: Callable[[], IssuedBadge | None]
    fence: Callable[[], None] | None
    # Sticky: a write whose answer was lost may still land after a lookup missed it (a slow
    # commit), and then our own next attempt is refused as a duplicate.
    lost_before: bool = False


@dataclass
class Written:
    """What a state-changing call produced: a response body, or a badge found after a lost one."""

    body: dict[str, Any] | None = None
    recovered: IssuedBadge | None = None


class CredlyTransport:
    """Sends requests to one Credly API root: paced, timed out, retried, never leaking the token.

    Throttling, 5xx and network failures are retried with exponential backoff and full jitter
    (tenacity), a 429's Retry-After honoured across threads through the shared token bucket;
    writes whose response was lost are looked up before being sent again.

    Args:
        base_url: API root including ``/v1``.
        token: the organization's authorization token (HTTP Basic username).
        limiter: the token bucket every request takes a token from.
        connect_timeout, read_timeout: seconds.
        max_attempts: tries per call, the first included.
        backoff_base, backoff_cap: the full-jitter window starts at base, doubles, stops at cap.
        max_retry_after: longest Retry-After honoured in-process (see CredlyClient).
        session: a requests Session to use instead of the shared one.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        limiter: TokenBucket,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_attempts: int,
        backoff_base: float,
        backoff_cap: float,
        max_retry_after: float,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.strip().rstrip("/")
        self._auth = (token.strip(), "")
        self.timeout = (float(connect_timeout), float(read_timeout))
        self.max_attempts = max_attempts
        self.max_retry_after = max_retry_after
        # Full jitter (AWS architecture blog): spreads retries of many threads evenly.
        self.backoff = wait_random_exponential(multiplier=backoff_base, max=backoff_cap)
        self.limiter = limiter
        self._session = session
        install_redaction()

    def same_origin(self, url: str) -> str:
        """Resolve a next_page_url against the base, refusing to send the token elsewhere."""
        absolute = urljoin(self.base_url + "/", url)
        target, base = urlsplit(absolute), urlsplit(self.base_url)
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            # Credly may name itself differently (a proxy, 127.0.0.1 vs localhost); keep the
            # path and query but send them only to the host we were configured with.
            absolute = urlunsplit((base.scheme, base.netloc, target.path, target.query, ""))
        return absolute

    def send(
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
        self.limiter.acquire()
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

    def retrying(self, method: str, url: str) -> Retrying:
        """The retry policy of one call: retryable errors only, max_attempts, Retry-After."""
        return Retrying(
            retry=retry_if_exception_type(CredlyRetryableError),
            wait=wait_retry_after(self.backoff),
            stop=(stop_after_attempt(self.max_attempts)
                  | stop_when_throttled_longer_than(self.max_retry_after)),
            before_sleep=lambda state: self._before_sleep(state, method, url),
            retry_error_callback=self._give_up,
        )

    def _before_sleep(self, state: RetryCallState, method: str, url: str) -> None:
        error = state.outcome.exception()
        delay = state.upcoming_sleep
        if isinstance(error, CredlyThrottled):
            # A 429 pauses every thread of the process, not just this one.
            self.limiter.pause_until(time.monotonic() + delay)
        log.warning(
            "Credly %s %s: %s (%s); attempt %d/%d, retrying in %.2fs [badge %s]",
            method, redacted(urlsplit(url).path), type(error).__name__,
            error.status or "no response",
            state.attempt_number, self.max_attempts, delay, error.badge_key or "-",
        )

    def _give_up(self, state: RetryCallState) -> Any:
        error = state.outcome.exception()
        if state.attempt_number < self.max_attempts:
            # Stopped early: Credly asked for a wait longer than max_retry_after. Hold the
            # process back that long, then let the task retry later instead of sleeping here.
            self.limiter.pause_until(time.monotonic() + self.max_retry_after)
            log.warning(
                "Credly asked to wait %.0fs (over the %.0fs limit); giving up [badge %s]",
                state.upcoming_sleep, self.max_retry_after, error.badge_key or "-",
            )
        raise error

    def get(
        self, url: str, params: Mapping[str, Any] | None = None, badge_key: str | None = None
    ) -> dict[str, Any]:
        """GET with retries on 429, 5xx and network failures (reads are safe to repeat)."""
        return self.retrying("GET", url)(
            self.send, "GET", url, params=params, badge_key=badge_key
        )

    def write(
        self,
        method: str,
        url: str,
        payload: Mapping[str, Any],
        *,
        badge_key: str | None,
        recover: Callable[[], IssuedBadge | None],
        fence: Callable[[], None] | None = None,
    ) -> Written:
        """Send a non-idempotent write, looking its effect up before ever sending it again.

        ``recover`` returns the badge the write would have produced if Credly already has it.
        It runs before every attempt that follows one whose outcome is unknown (5xx, lost
        response), after the backoff, so a slow commit has time to land. ``fence`` runs
        right before each send and raises to stop it (the caller's claim was taken over).

        Raises:
            CredlyError: the rejection (4xx), or the last retryable error when retrying stops;
                ``maybe_applied`` is set on it when an earlier attempt may have landed.
        """
        call = _WriteCall(method, url, payload, badge_key, recover, fence)
        try:
            return self._write_attempts(call)
        except CredlyDuplicateBadge:
            if call.lost_before and (found := self._recover(recover, badge_key)):
                return Written(recovered=found)
            raise
        except CredlyError as error:
            # Whatever ended the call (a long Retry-After, a refused lookup), an earlier
            # attempt may have landed: the caller's ledger must keep that fact.
            error.maybe_applied = error.maybe_applied or call.lost_before
            raise

    def _write_attempts(self, call: _WriteCall) -> Written:
        maybe_applied = False
        for attempt in self.retrying(call.method, call.url):
            if maybe_applied:
                # Outside the attempt: a failed lookup ends the call, it is not retried.
                found = self._recover(call.recover, call.badge_key)
                if found is not None:
                    return Written(recovered=found)
                maybe_applied = False
            if call.fence is not None:
                call.fence()
            with attempt:
                try:
                    return Written(body=self.send(call.method, call.url, json=call.payload,
                                                  badge_key=call.badge_key))
                except CredlyRetryableError as error:
                    maybe_applied = isinstance(error, CredlyUnknownOutcome)
                    call.lost_before = call.lost_before or maybe_applied
                    if attempt.retry_state.attempt_number == self.max_attempts:
                        if call.lost_before and (
                                found := self._recover(call.recover, call.badge_key)):
                            return Written(recovered=found)
                        if call.lost_before and not maybe_applied:
                            # Only throttled at the end, but an earlier try may yet land:
                            # the caller must look before sending this again.
                            raise CredlyUnknownOutcome(
                                "a write's response was lost and it is not found yet",
                                status=error.status, badge_key=call.badge_key) from None
                    raise
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

    def paged(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        on_page: Callable[[], None] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield every item of a paged list, following metadata.next_page_url until null.

        ``on_page`` runs once per page read (a sync counts its requests with it).
        """
        seen: set[str] = set()
        next_url: str | None = url
        next_params = params
        while next_url:
            if next_url in seen:
                raise CredlyTransient("Credly's pagination went round in a loop")
            seen.add(next_url)
            body = self.get(next_url, next_params)
            if on_page is not None:
                on_page()
            yield from body.get("data") or []
            metadata = body.get("metadata") or {}
            link = metadata.get("next_page_url")
            # The link already carries the filter and page; sending params again would clash.
            next_url, next_params = (self.same_origin(link), None) if link else (None, None)

    def pages_at_once(
        self,
        url: str,
        params: Mapping[str, Any],
        concurrency: int,
        on_page: Callable[[], None] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield every item of a paged list, in page order, reading `concurrency` pages at a
        time by number (Credly's 1-based `page`) once the first page told how many there are.

        For long lists in a stable order (oldest first): 3,000 pages read one after the other
        are 3,000 round trips. A badge leaving the list while it is read shifts the later pages
        by one, so one item may be missed; callers treat what they miss as not listed (as with
        `paged`). Without `metadata.total_pages` it follows the links as `paged` does.
        """
        first = self.get(url, {**params, "page": 1})
        if on_page is not None:
            on_page()
        yield from first.get("data") or []
        metadata = first.get("metadata") or {}
        total, link = metadata.get("total_pages"), metadata.get("next_page_url")
        if not link:
            return
        if not isinstance(total, int) or isinstance(total, bool) or concurrency < 2:
            yield from self.paged(self.same_origin(link), None, on_page)
            return

        def read(page: int) -> list[dict[str, Any]]:
            return self.get(url, {**params, "page": page}).get("data") or []

        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="credly-page") as pool:
            for items in pool.map(read, range(2, total + 1)):
                # Counted here, in the caller's thread: on_page need not be thread-safe.
                if on_page is not None:
                    on_page()
                yield from items
