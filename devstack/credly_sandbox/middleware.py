"""The fault layer in front of /v1: injected errors, hangs and lost responses, and the
request and in-flight counters."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from devstack.credly_sandbox.responses import envelope_error
from devstack.credly_sandbox.state import Sandbox


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

