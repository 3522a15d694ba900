"""Credly's API v1 for one organization: issue exactly once, look up, revoke, replace, list."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import requests

from badging.core.errors import (
    ConfigurationError,
    CredlyDuplicateBadge,
    CredlyInvalidRequest,
    CredlyUnresolvedDuplicate,
)
from badging.credly.classification import encode_filter
from badging.credly.matching import UNRESOLVED_DUPLICATE, lookup_by_earner_id, lookup_existing
from badging.credly.payloads import (
    REVOKED,
    TEMPLATE_DEFAULT,
    BadgeRequest,
    Expiry,
    IssuedBadge,
    IssueResult,
    format_issued_at,
)
from badging.credly.ratelimit import TokenBucket, shared_limiter
from badging.credly.transport import CredlyTransport

log = logging.getLogger(__name__)

class CredlyClient:
    """Thread-safe client for one Credly organization.

    Every request goes through the process-wide token bucket and the pooled session, always
    with connect and read timeouts. Throttling, 5xx and network failures are retried with
    exponential backoff and full jitter (Retry-After honoured across threads); writes whose
    response was lost are looked up before being sent again (see CredlyTransport). Build one
    from the ``credly_api`` connection with ``CredlyHook().get_conn()``.

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
        self.organization_id = str(organization_id).strip()
        self.locale = locale
        self.suppress_notification = suppress_notification
        self.transport = CredlyTransport(
            base_url, token, limiter or shared_limiter(rate_limit_per_s, rate_limit_burst),
            connect_timeout=connect_timeout, read_timeout=read_timeout,
            max_attempts=max_attempts, backoff_base=backoff_base, backoff_cap=backoff_cap,
            max_retry_after=max_retry_after, session=session,
        )

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    @property
    def timeout(self) -> tuple[float, float]:
        return self.transport.timeout

    def __repr__(self) -> str:
        # Never the token.
        return f"CredlyClient({self.base_url!r}, organization_id={self.organization_id!r})"

    def wait_until_callable(self) -> None:
        """Block while the process is paused by a 429's Retry-After (the shared pause)."""
        self.transport.limiter.wait_if_paused()

    def _url(self, *parts: str) -> str:
        return "/".join([self.base_url, "organizations", self.organization_id, *parts])

    # --- badges -------------------------------------------------------------------------

    def issue_badge(
        self, req: BadgeRequest, fence: Callable[[], None] | None = None
    ) -> IssueResult:
        """Issue one badge, exactly once, however the network behaves.

        A duplicate 422 resolves to the earner's existing badge (``already_issued``). A lost
        response (5xx, read timeout, dropped connection) is looked up before the POST is ever
        repeated; a badge found that way is ``issued`` with ``recovered=True``.

        Args:
            req: the badge to issue.
            fence: runs right before each POST and raises to stop it (the ledger's claim).

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
            written = self.transport.write(
                "POST",
                self._url("badges"),
                payload,
                badge_key=req.badge_key,
                recover=lambda: self.find_existing_badge(req),
                fence=fence,
            )
        except CredlyDuplicateBadge:
            existing, obstacle = lookup_existing(self, req)
            if existing is None and obstacle is None:
                existing = lookup_by_earner_id(self, req)
            if existing is None:
                raise CredlyUnresolvedDuplicate(
                    UNRESOLVED_DUPLICATE[obstacle], status=422, badge_key=req.badge_key
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
            body = self.transport.get(self._url("badges", badge_id))
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
        return self.transport.paged(self._url("badges"), params)

    def badge_list(
        self,
        states: Sequence[str],
        sort: str,
        on_page: Callable[[], None] | None = None,
        concurrency: int = 1,
    ) -> Iterator[dict[str, Any]]:
        """Yield the organization's badges in these states as Credly lists them, 50 a page.

        Args:
            states: Credly states, e.g. ``["pending", "accepted"]``.
            sort: Credly sort expression, e.g. ``"created_at"`` or ``"-state_updated_at"``.
            on_page: runs once per page read.
            concurrency: pages read at once (by page number; for a stable ``sort`` such as
                ``created_at``, in which new badges come last); 1 follows the links.

        Returns:
            An iterator of raw IssuedBadge dicts (they hold recipient data: do not log them).

        Raises:
            CredlyAuthError, CredlyInvalidRequest, CredlyRetryableError: as for any call.
        """
        params = {"filter": encode_filter({"state": list(states)}), "sort": sort}
        if concurrency > 1:
            return self.transport.pages_at_once(self._url("badges"), params, concurrency,
                                                on_page)
        return self.transport.paged(self._url("badges"), params, on_page)

    def list_badges(
        self,
        states: Sequence[str],
        sort: str,
        on_page: Callable[[], None] | None = None,
        concurrency: int = 1,
    ) -> Iterator[IssuedBadge]:
        """The badges of `badge_list`, without their recipient data."""
        for item in self.badge_list(states, sort, on_page, concurrency):
            yield IssuedBadge.from_api(item)

    def find_existing_badge(self, req: BadgeRequest) -> IssuedBadge | None:
        """Find the live badge this request would duplicate, if the earner already holds one.

        Looks up by template and recipient email, skips revoked badges, prefers the badge whose
        issuer_earner_id matches and accepts one with none that names the earner (unless the
        email is shared); a badge under another earner's id is not returned (`earners_badge`).

        Args:
            req: the badge request.

        Returns:
            The existing badge, or None.

        Raises:
            CredlyAuthError, CredlyInvalidRequest, CredlyRetryableError: as for any call.
        """
        return lookup_existing(self, req)[0]

    def revoke_badge(
        self,
        badge_id: str,
        reason: str,
        suppress_notification: bool = False,
        fence: Callable[[], None] | None = None,
        badge_key: str | None = None,
    ) -> IssuedBadge:
        """Revoke a badge; revoking one that is already revoked returns it unchanged.

        Args:
            badge_id: the Credly badge UUID (never logged: its public page names the earner).
            reason: shown to the earner; Credly effectively requires one.
            suppress_notification: ask Credly not to email the earner.
            fence: runs right before each PUT and raises to stop it (the ledger's claim).
            badge_key: the ledger's surrogate for logs and errors, e.g. ``"revocation#12"``.

        Returns:
            The revoked badge.

        Raises:
            ValueError: if reason is empty.
            CredlyAuthError, CredlyInvalidRequest, CredlyRetryableError: as for any call.
        """
        if not reason or not reason.strip():
            raise ValueError("a revocation reason is required")

        def already_revoked() -> IssuedBadge | None:
            badge = self.get_badge(badge_id)
            return badge if badge is not None and badge.state == REVOKED else None

        payload = {"reason": reason, "suppress_revoke_notification_email": suppress_notification}
        try:
            written = self.transport.write(
                "PUT", self._url("badges", badge_id, "revoke"), payload,
                badge_key=badge_key, recover=already_revoked, fence=fence,
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
        expiry: Expiry = TEMPLATE_DEFAULT,
        evidence: Sequence[Mapping[str, Any]] = (),
        badge_key: str | None = None,
        fence: Callable[[], None] | None = None,
    ) -> IssuedBadge:
        """Replace a badge with one of another template or a corrected name (Credly: POST
        …/badges/{id}/replace); a lost response is found by reading the old badge's link.
        Its expiry and evidence are sent as for a new badge (Credly's replace updates both).

        Args:
            badge_id: the badge to replace (never logged: its public page names the earner).
            template_id: the new badge's template.
            issued_at: the new badge's issue moment or date (see format_issued_at).
            first_name: a corrected first name, if any.
            last_name: a corrected last name, if any.
            expiry: the new badge's expires_at; left out for the template's default.
            evidence: the new badge's evidence objects, if any.
            badge_key: the ledger's surrogate for logs and errors, e.g. ``"revocation#12"``.
            fence: runs right before each POST and raises to stop it (the ledger's claim).

        Returns:
            The new badge (its replaces_badge_id is badge_id).

        Raises:
            CredlyAuthError, CredlyInvalidRequest, CredlyRetryableError: as for any call.
        """
        payload: dict[str, Any] = {
            "badge_template_id": template_id,
            "issued_at": format_issued_at(issued_at),
        }
        if first_name:
            payload["issued_to_first_name"] = first_name
        if last_name:
            payload["issued_to_last_name"] = last_name
        payload.update(expiry.field())
        if evidence:
            payload["evidence"] = [dict(item) for item in evidence]

        def replacement() -> IssuedBadge | None:
            old = self.get_badge(badge_id)
            if old is None or old.replacement_badge_id is None:
                return None
            return self.get_badge(old.replacement_badge_id)

        written = self.transport.write(
            "POST", self._url("badges", badge_id, "replace"), payload,
            badge_key=badge_key, recover=replacement, fence=fence,
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
        return list(self.transport.paged(self._url("badge_templates"), params))

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
            return self.transport.get(self._url("badge_templates", template_id))["data"]
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
        return self.transport.get(self._url())["data"]
