"""The sandbox's mutable state: its store, faults, tokens and counters, and the settings it
starts from (the command line's)."""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fastapi import Request

from devstack.credly_sandbox import clock
from devstack.credly_sandbox.behavior import Behavior
from devstack.credly_sandbox.faults import FaultInjector, Faults
from devstack.credly_sandbox.model import ApiError
from devstack.credly_sandbox.store import Store


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
