"""The /_sandbox controls: health, state, reset, faults, behavior, earners, clock, templates, tokens
and badges made or changed by hand. No auth and no faults: local tooling only."""

from __future__ import annotations

import logging
import os
from collections import Counter

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from devstack.credly_sandbox import clock, model
from devstack.credly_sandbox.behavior import parse_switches
from devstack.credly_sandbox.earners import Earners, parse_earners
from devstack.credly_sandbox.faults import parse_knobs
from devstack.credly_sandbox.model import ApiError
from devstack.credly_sandbox.responses import json_body
from devstack.credly_sandbox.state import Sandbox

log = logging.getLogger(__name__)

ROLES = ("read_write", "read_only")
# What /_sandbox/badges/{id}/state may set: the earner's decisions, and expiry.
EARNER_STATES = ("pending", "accepted", "rejected", "expired")


def add_control_routes(app: FastAPI, sandbox: Sandbox) -> None:
    store = sandbox.store

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
        faults = sandbox.faults.update(parse_knobs(await json_body(request)))
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
        behavior = sandbox.set_behavior(parse_switches(await json_body(request)))
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
        store.earners = parse_earners(await json_body(request), store.earners)
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
        body = await json_body(request)
        if not isinstance(body, dict) or len(body) != 1 or not set(body) <= {"now", "advance_s"}:
            raise ApiError(422, 'expected {"now": <ISO-8601 moment>} or {"advance_s": <seconds>}')
        if "now" in body:
            clock.set_now(model.parse_time(body["now"], "now"))
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
        body = await json_body(request)
        if not isinstance(body, list):
            raise ApiError(422, "expected a JSON list of templates")
        count = store.upsert_templates(body)
        log.info("upserted %d templates", count)
        return JSONResponse({"upserted": count, "templates": len(store.templates)})

    @app.post("/_sandbox/tokens")
    async def change_tokens(request: Request) -> Response:
        body = await json_body(request)
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
        body = await json_body(request)
        state = body.get("state") if isinstance(body, dict) else None
        if state not in EARNER_STATES:
            raise ApiError(422, f"state must be one of {', '.join(EARNER_STATES)}")
        return JSONResponse({"data": store.render(store.set_state(badge_id, state))})

    # Someone else acting in Credly's web app (not the pipeline): outside /v1, so neither
    # faults nor the request counters see it.
    @app.post("/_sandbox/badges/{badge_id}/revoke")
    async def revoke_by_hand(request: Request, badge_id: str) -> Response:
        return JSONResponse({"data": store.render(store.revoke(badge_id,
                                                               await json_body(request)))})

    @app.post("/_sandbox/badges/bulk")
    async def issue_many(request: Request) -> Response:
        body = await json_body(request)
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
