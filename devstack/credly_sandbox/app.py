"""The FastAPI app: Credly's /v1 routes, Basic auth, the fault layer, and /_sandbox controls."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from devstack.credly_sandbox import clock, listing, model
from devstack.credly_sandbox.behavior import Behavior, parse_switches
from devstack.credly_sandbox.earners import Earners, parse_earners
from devstack.credly_sandbox.faults import FaultInjector, Faults, parse_knobs
from devstack.credly_sandbox.model import ApiError
from devstack.credly_sandbox.store import Store

log = logging.getLogger(__name__)

ROLES = ("read_write", "read_only")
# What /_sandbox/badges/{id}/state may set: the earner's decisions, and expiry.
EARNER_STATES = ("pending", "accepted", "rejected", "expired")
_STATUS_MESSAGES = {
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
}


@dataclass
class Settings:
    """Everything the command line decides."""

    state_path: Path
    org_id: str
    token: str
    read_only_token: str | None = None
    org_name: str = "Credly Sandbox Organization"
    templates: list[dict[str, Any]] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    behavior: Behavior = field(default_factory=Behavior)


def envelope_error(
    status: int, message: str | None = None, headers: dict | None = None
) -> Response:
    """Credly's error shape; clients should depend on data.message only."""
    text = message or _STATUS_MESSAGES.get(status, "Error")
    return JSONResponse({"data": {"message": text}}, status_code=status, headers=headers)


class Sandbox:
    """Mutable server state shared by the routes and the middleware."""

    def __init__(self, settings: Settings) -> None:
        self.org_id = settings.org_id.lower()
        self.org_name = settings.org_name
        self.store = Store(settings.state_path, self.org_id)
        if settings.templates:
            self.store.upsert_templates(settings.templates)
        self.faults = FaultInjector(settings.faults)
        self.launched_behavior = settings.behavior
        self.store.behavior = settings.behavior
        self.tokens: dict[str, str] = {settings.token: "read_write"}
        if settings.read_only_token:
            self.tokens[settings.read_only_token] = "read_only"
        self.requests: Counter[str] = Counter()
        # /v1 requests being served now, and the most at once since the last reset: what a
        # client's concurrency bound looks like from Credly's side.
        self.in_flight = 0
        self.peak_in_flight = 0
        self._decoded: dict[str, str | None] = {}
        # The last badge list query, (store version, filter, sort), and its records.
        self.listed: tuple[tuple | None, list[dict[str, Any]]] = (None, [])

    def _token_from(self, header: str | None) -> str | None:
        if not header:
            return None
        if header in self._decoded:
            return self._decoded[header]
        scheme, _, encoded = header.partition(" ")
        token = None
        if scheme.lower() == "basic":
            try:
                # Credly's convention: the token is the username and the password is blank.
                token = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                token = None
        # Clients send the same header on every call, so decoding once per header pays off.
        if len(self._decoded) > 1024:
            self._decoded.clear()
        self._decoded[header] = token
        return token

    def authorize(self, request: Request, org_id: str, *, write: bool = False) -> None:
        role = self.tokens.get(self._token_from(request.headers.get("authorization")) or "")
        if role is None:
            raise ApiError(401, "Unauthorized")
        if org_id.lower() != self.org_id:
            raise ApiError(404, "Organization not found")
        if write and role != "read_write":
            raise ApiError(403, "This authorization token does not permit that action")

    def state(self) -> dict[str, Any]:
        return {
            "badges": self.store.state_counts(),
            "duplicates_refused": self.store.duplicates_refused,
            "requests": dict(self.requests),
            "peak_in_flight": self.peak_in_flight,
            "faults": self.faults.faults.as_dict(),
            "behavior": self.store.behavior.as_dict(),
            "earners": self.store.earners.as_dict(),
            "clock": clock.as_dict(),
        }

    def set_behavior(self, switches: dict[str, bool]) -> Behavior:
        """Apply validated switches; omitted ones keep their value."""
        self.store.behavior = replace(self.store.behavior, **switches)
        return self.store.behavior

    def restore_behavior(self) -> Behavior:
        self.store.behavior = self.launched_behavior
        return self.store.behavior

    def reset(self) -> None:
        clock.reset()
        self.store.reset()
        self.requests.clear()
        self.peak_in_flight = self.in_flight
        self.faults.clear()
        self.restore_behavior()


class SandboxMiddleware:
    """Pure ASGI layer: trailing-slash folding, then for /v1 the faults and the counters.

    Pure ASGI rather than BaseHTTPMiddleware because it sits on the hot path and because it
    must be able to run the route to completion while discarding its response.
    """

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            # Credly accepts both spellings; a redirect would make clients resend POST bodies.
            scope = {**scope, "path": path.rstrip("/") or "/"}
        if not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return

        sandbox = self.sandbox
        sandbox.in_flight += 1  # one event loop: no lock needed
        sandbox.peak_in_flight = max(sandbox.peak_in_flight, sandbox.in_flight)
        try:
            await self._serve_v1(scope, receive, send)
        finally:
            sandbox.in_flight -= 1

    async def _serve_v1(self, scope: Scope, receive: Receive, send: Send) -> None:
        counter = self.sandbox.requests

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                counter[str(message["status"])] += 1
            await send(message)

        verdict = self.sandbox.faults.judge(scope["method"])
        if verdict.delay_s:
            await asyncio.sleep(verdict.delay_s)
        if verdict.status is not None:
            headers = {"Retry-After": verdict.retry_after} if verdict.retry_after else None
            await envelope_error(verdict.status, headers=headers)(scope, receive, counting_send)
            return
        if verdict.hang_s:
            # Take the whole request in first: the server has it, and a client that gives up
            # during the hang must not stop the work from happening afterwards.
            receive = await _buffered(receive)
            await asyncio.sleep(verdict.hang_s)
        if verdict.lose_response:
            await self.app(scope, receive, _discard)
            await envelope_error(502)(scope, receive, counting_send)
            return
        await self.app(scope, receive, counting_send)


async def _buffered(receive: Receive) -> Receive:
    """Read the request body now and return a receive that replays it."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay


async def _discard(message: Message) -> None:
    """The committed response that the lost-response fault never delivers."""


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "Request body is not valid JSON") from None


def _data(payload: Any, status: int = 200, **extra: Any) -> JSONResponse:
    return JSONResponse({"data": payload, **extra}, status_code=status)


def _page_url(request: Request):
    return lambda page: str(request.url.include_query_params(page=page))


def create_app(settings: Settings) -> FastAPI:
    """Build the app; the SQLite state is opened here and closed at shutdown."""
    sandbox = Sandbox(settings)
    store = sandbox.store

    async def close_store(app: FastAPI):
        yield
        store.close()

    app = FastAPI(
        title="Credly sandbox",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
        lifespan=close_store,
    )
    app.state.sandbox = sandbox
    app.add_middleware(SandboxMiddleware, sandbox=sandbox)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        headers = {"WWW-Authenticate": 'Basic realm="Credly"'} if exc.status == 401 else None
        return envelope_error(exc.status, exc.message, headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return envelope_error(exc.status_code, _STATUS_MESSAGES.get(exc.status_code, exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return envelope_error(422, "Invalid request")

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return envelope_error(500)

    # -- Credly API ----------------------------------------------------------------------------

    org = "/v1/organizations/{org_id}"

    @app.get(org)
    async def get_organization(request: Request, org_id: str) -> Response:
        sandbox.authorize(request, org_id)
        return _data({"id": sandbox.org_id, "name": sandbox.org_name})

    @app.post(org + "/badges")
    async def issue_badge(request: Request, org_id: str) -> Response:
        sandbox.authorize(request, org_id, write=True)
        badge = store.issue(await _json_body(request))
        return _data(store.render(badge), 201, metadata={})

    @app.get(org + "/badges")
    async def list_badges(request: Request, org_id: str) -> Response:
        sandbox.authorize(request, org_id)
        store.let_earners_act()
        params = request.query_params
        filters = listing.parse_filter(
            params.get("filter"),
            (
                "recipient_email",
                "recipient_email_all",
                "badge_template_id",
                "state",
                "issuer_earner_id",
                "query",
                "public",
            ),
        )
        sort = params.get("sort") or listing.DEFAULT_BADGE_SORT
        key = (store.version, params.get("filter"), sort)
        if sandbox.listed[0] != key:
            # Unchanged badges, the same query: the next page of a walk reuses the list.
            sandbox.listed = (key, listing.sort_records(
                listing.filter_badges(store, filters), sort, listing.BADGE_SORTS))
        chunk, metadata = listing.paginate(
            sandbox.listed[1], params.get("page"), params.get("per"), _page_url(request)
        )
        return _data([store.render(badge) for badge in chunk], metadata=metadata)

    @app.get(org + "/badges/{badge_id}")
    async def get_badge(request: Request, org_id: str, badge_id: str) -> Response:
        sandbox.authorize(request, org_id)
        store.let_earners_act()
        return _data(store.render(store.get(badge_id)))

    @app.put(org + "/badges/{badge_id}/revoke")
    async def revoke_badge(request: Request, org_id: str, badge_id: str) -> Response:
        sandbox.authorize(request, org_id, write=True)
        badge = store.revoke(badge_id, await _json_body(request))
        log.info("revoked badge %s", badge_id)
        return _data(store.render(badge))

    @app.post(org + "/badges/{badge_id}/replace")
    async def replace_badge(request: Request, org_id: str, badge_id: str) -> Response:
        sandbox.authorize(request, org_id, write=True)
        badge = store.replace(badge_id, await _json_body(request))
        log.info("replaced badge %s with %s", badge_id, badge["id"])
        return _data(store.render(badge), 201, metadata={})

    @app.delete(org + "/badges/{badge_id}")
    async def delete_badge(request: Request, org_id: str, badge_id: str) -> Response:
        sandbox.authorize(request, org_id, write=True)
        store.delete(badge_id)
        log.info("deleted badge %s", badge_id)
        return Response(status_code=204)

    @app.get(org + "/badge_templates")
    async def list_templates(request: Request, org_id: str) -> Response:
        sandbox.authorize(request, org_id)
        params = request.query_params
        filters = listing.parse_filter(params.get("filter"), ("state", "name", "id", "query"))
        records = listing.sort_records(
            listing.filter_templates(store, filters),
            params.get("sort") or listing.DEFAULT_TEMPLATE_SORT,
            listing.TEMPLATE_SORTS,
            lambda template: template["id"],
        )
        chunk, metadata = listing.paginate(
            records, params.get("page"), params.get("per"), _page_url(request)
        )
        return _data(chunk, metadata=metadata)

    @app.get(org + "/badge_templates/{template_id}")
    async def get_template(request: Request, org_id: str, template_id: str) -> Response:
        sandbox.authorize(request, org_id)
        template = store.templates.get(template_id)
        if template is None:
            raise ApiError(404, "Badge template not found")
        return _data(template)

    # -- sandbox controls (no auth, no faults: local tooling only) ----------------------------

    @app.get("/_sandbox/health")
    async def health() -> Response:
        # The pid lets a launcher tell its own child from a stale server on the same port.
        return JSONResponse({"status": "ok", "pid": os.getpid()})

    @app.get("/_sandbox/state")
    async def get_state() -> Response:
        store.let_earners_act()
        return JSONResponse(sandbox.state())

    @app.post("/_sandbox/reset")
    async def reset() -> Response:
        sandbox.reset()
        log.info("reset: badges, counters and faults cleared, behavior as launched")
        return JSONResponse(sandbox.state())

    @app.get("/_sandbox/faults")
    async def get_faults() -> Response:
        return JSONResponse(sandbox.faults.faults.as_dict())

    @app.post("/_sandbox/faults")
    async def set_faults(request: Request) -> Response:
        faults = sandbox.faults.update(parse_knobs(await _json_body(request)))
        log.info("faults now %s", faults.as_dict())
        return JSONResponse(faults.as_dict())

    @app.delete("/_sandbox/faults")
    async def clear_faults() -> Response:
        return JSONResponse(sandbox.faults.clear().as_dict())

    @app.get("/_sandbox/behavior")
    async def get_behavior() -> Response:
        return JSONResponse(sandbox.store.behavior.as_dict())

    @app.post("/_sandbox/behavior")
    async def set_behavior(request: Request) -> Response:
        behavior = sandbox.set_behavior(parse_switches(await _json_body(request)))
        log.info("behavior now %s", behavior.as_dict())
        return JSONResponse(behavior.as_dict())

    @app.delete("/_sandbox/behavior")
    async def restore_behavior() -> Response:
        return JSONResponse(sandbox.restore_behavior().as_dict())

    @app.get("/_sandbox/earners")
    async def get_earners() -> Response:
        return JSONResponse(store.earners.as_dict())

    @app.post("/_sandbox/earners")
    async def set_earners(request: Request) -> Response:
        # Badges already waiting are decided with the new knob when their delay passes.
        store.earners = parse_earners(await _json_body(request), store.earners)
        log.info("earners now %s", store.earners.as_dict())
        return JSONResponse(store.earners.as_dict())

    @app.delete("/_sandbox/earners")
    async def idle_earners() -> Response:
        store.earners = Earners()
        return JSONResponse(store.earners.as_dict())

    @app.get("/_sandbox/clock")
    async def get_clock() -> Response:
        return JSONResponse(clock.as_dict())

    @app.post("/_sandbox/clock")
    async def set_clock(request: Request) -> Response:
        # {"now": ISO-8601 moment with its offset} or {"advance_s": seconds}: Credly's time
        # moves, and badges whose expires_at it passes expire (store.expire_due).
        body = await _json_body(request)
        if not isinstance(body, dict) or len(body) != 1 or not set(body) <= {"now", "advance_s"}:
            raise ApiError(422, 'expected {"now": <ISO-8601 moment>} or {"advance_s": <seconds>}')
        if "now" in body:
            moment = model.parse_time(body["now"], "now")
            clock.set_now(moment)
        else:
            seconds = body["advance_s"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise ApiError(422, "advance_s must be a number")
            clock.advance(seconds)
        store.let_earners_act()
        log.info("clock now %s", clock.now().isoformat())
        return JSONResponse(clock.as_dict())

    @app.delete("/_sandbox/clock")
    async def reset_clock() -> Response:
        clock.reset()
        return JSONResponse(clock.as_dict())

    @app.post("/_sandbox/templates")
    async def put_templates(request: Request) -> Response:
        body = await _json_body(request)
        if not isinstance(body, list):
            raise ApiError(422, "expected a JSON list of templates")
        count = store.upsert_templates(body)
        log.info("upserted %d templates", count)
        return JSONResponse({"upserted": count, "templates": len(store.templates)})

    @app.post("/_sandbox/tokens")
    async def change_tokens(request: Request) -> Response:
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise ApiError(422, "expected a JSON object")
        revoke = body.get("revoke") or []
        add = body.get("add") or {}
        if not isinstance(revoke, list) or not isinstance(add, dict):
            raise ApiError(422, "revoke must be a list and add an object")
        if any(role not in ROLES for role in add.values()):
            raise ApiError(422, f"token roles are {', '.join(ROLES)}")
        for token in revoke:
            sandbox.tokens.pop(token, None)
        sandbox.tokens.update(add)
        # Counts only: tokens are secrets even here.
        log.info("tokens: %d revoked, %d added", len(revoke), len(add))
        return JSONResponse({"tokens": dict(Counter(sandbox.tokens.values()))})

    @app.get("/_sandbox/badges")
    async def all_badges(request: Request) -> Response:
        store.let_earners_act()
        wanted = [f for f in (request.query_params.get("fields") or "").split(",") if f]
        # badge_template_id is flattened in so tests can compare with the ledger directly.
        badges = [
            {**store.render(badge), "badge_template_id": badge["badge_template_id"]}
            for badge in store.badges.values()
        ]
        if wanted:
            badges = [{f: badge.get(f) for f in wanted} for badge in badges]
        return JSONResponse({"data": badges})

    @app.post("/_sandbox/badges/{badge_id}/state")
    async def set_badge_state(request: Request, badge_id: str) -> Response:
        body = await _json_body(request)
        state = body.get("state") if isinstance(body, dict) else None
        if state not in EARNER_STATES:
            raise ApiError(422, f"state must be one of {', '.join(EARNER_STATES)}")
        return JSONResponse({"data": store.render(store.set_state(badge_id, state))})

    # Someone else acting in Credly's web app (not the pipeline): outside /v1, so neither
    # faults nor the request counters see it.
    @app.post("/_sandbox/badges/{badge_id}/revoke")
    async def revoke_by_hand(request: Request, badge_id: str) -> Response:
        return JSONResponse({"data": store.render(store.revoke(badge_id,
                                                               await _json_body(request)))})

    @app.post("/_sandbox/badges/bulk")
    async def issue_many(request: Request) -> Response:
        body = await _json_body(request)
        if isinstance(body, dict) and isinstance(body.get("badges"), list):
            # Credly's bulk upload: badges made before the pipeline, for real earners.
            ids = store.import_badges(body["badges"])
            log.info("imported %d badges", len(ids))
            return JSONResponse({"ids": ids})
        count = body.get("count") if isinstance(body, dict) else None
        if isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= 500_000:
            raise ApiError(422, "count must be an integer from 1 to 500000")
        ids = store.issue_many(count, str(body.get("badge_template_id") or ""))
        log.info("issued %d badges in bulk", count)
        return JSONResponse({"ids": ids})

    @app.delete("/_sandbox/badges/{badge_id}")
    async def delete_by_hand(badge_id: str) -> Response:
        store.delete(badge_id)
        return Response(status_code=204)

    return app
