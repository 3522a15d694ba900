"""A client for the sandbox's /_sandbox controls: faults, behavior, reset, badges, templates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import requests


class SandboxControl:
    """Steers a running sandbox from tests, devstack and the bench (never the pipeline)."""

    def __init__(self, root_url: str, timeout: float = 30.0) -> None:
        self.root_url = root_url.rstrip("/")
        self._timeout = timeout
        self._http = requests.Session()
        # Loopback only: an HTTP proxy from the environment must never see these calls.
        self._http.trust_env = False

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"{self.root_url}/_sandbox/{path}",
                                      timeout=self._timeout, **kwargs)
        response.raise_for_status()
        return response.json()

    def alive(self) -> bool:
        try:
            return self._http.get(f"{self.root_url}/_sandbox/health", timeout=2).ok
        except requests.RequestException:
            return False

    def set_faults(self, **knobs: Any) -> dict[str, Any]:
        """Change the named knobs (others keep their value); returns every knob."""
        return self._call("POST", "faults", json=knobs)

    def clear_faults(self) -> dict[str, Any]:
        return self._call("DELETE", "faults")

    def set_behavior(self, **switches: bool) -> dict[str, bool]:
        """Change the named switches, e.g. `revoked_blocks_reissue=True`; returns every switch."""
        return self._call("POST", "behavior", json=switches)

    def restore_behavior(self) -> dict[str, bool]:
        """The switches as the sandbox was launched."""
        return self._call("DELETE", "behavior")

    def set_earners(self, **knobs: float) -> dict[str, float]:
        """Earners accept `accept_share` and reject `reject_share` of the pending badges,
        `delay_s` after each badge's creation (devstack/credly_sandbox/earners.py)."""
        return self._call("POST", "earners", json=knobs)

    def idle_earners(self) -> dict[str, float]:
        return self._call("DELETE", "earners")

    def set_clock(self, now: datetime) -> dict[str, Any]:
        """Credly's time is `now` from here on (badges whose expires_at it passes expire)."""
        return self._call("POST", "clock", json={"now": now.isoformat()})

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self._call("POST", "clock", json={"advance_s": seconds})

    def reset_clock(self) -> dict[str, Any]:
        """The real clock again (`reset` does this too)."""
        return self._call("DELETE", "clock")

    def delete_badge(self, badge_id: str) -> None:
        """Someone deletes a badge in Credly's web app (a data-removal request)."""
        response = self._http.delete(
            f"{self.root_url}/_sandbox/badges/{badge_id}", timeout=self._timeout)
        response.raise_for_status()

    def revoke_badge(self, badge_id: str, reason: str = "Revoked by hand") -> dict[str, Any]:
        """Someone revokes a badge in Credly's web app, outside the pipeline."""
        return self._call("POST", f"badges/{badge_id}/revoke", json={"reason": reason})["data"]

    def issue_many(self, count: int, template_id: str) -> list[str]:
        """`count` pending badges of one template for made-up earners (the bench's seed)."""
        return self._call("POST", "badges/bulk",
                          json={"count": count, "badge_template_id": template_id})["ids"]

    def import_badges(self, payloads: Sequence[dict[str, Any]]) -> list[str]:
        """Badges Credly holds from before the pipeline (its bulk upload, or issued by hand):
        issue payloads (recipient_email, names, badge_template_id, optional issuer_earner_id),
        no duplicate check. Returns their ids in order."""
        return self._call("POST", "badges/bulk", json={"badges": list(payloads)})["ids"]

    def reset(self) -> dict[str, Any]:
        """No badges, zero counters, no faults, idle earners, behavior as launched, the real
        clock; templates and tokens stay."""
        return self._call("POST", "reset")

    def state(self) -> dict[str, Any]:
        return self._call("GET", "state")

    def badges(self) -> list[dict[str, Any]]:
        """Every badge, each with a flat badge_template_id beside the embedded template."""
        return self._call("GET", "badges")["data"]

    def set_badge_state(self, badge_id: str, state: str) -> dict[str, Any]:
        """What only the earner can do in Credly's web app: accept or reject a badge."""
        return self._call("POST", f"badges/{badge_id}/state", json={"state": state})["data"]

    def put_templates(self, templates: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Upsert by id: {id, name, state active|draft|archived, allow_duplicate_badges,
        expires_in_days (the template's default expiry, days after issue; null: none)}."""
        return self._call("POST", "templates", json=list(templates))

    def set_tokens(
        self, *, revoke: Sequence[str] = (), add: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Revoke tokens (they get 401 from then on) or add them as read_write / read_only."""
        return self._call("POST", "tokens", json={"revoke": list(revoke), "add": add or {}})
