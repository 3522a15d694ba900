"""Shared by the Credly unit tests: a badge request, Credly bodies, a scripted Session."""

from __future__ import annotations

import json
from datetime import date

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from badging.credly import BadgeRequest, CredlyClient
from badging.credly.ratelimit import TokenBucket

EMAIL = "jane.doe@example.org"
TEMPLATE = "6f0e7a52-0000-4000-8000-000000000001"


def make_request(**overrides) -> BadgeRequest:
    fields = {
        "recipient_email": EMAIL,
        "first_name": "Jane",
        "last_name": "Doe",
        "template_id": TEMPLATE,
        "issued_at": date(2024, 7, 1),
        "earner_id": "earner-abc",
        "badge_key": "issuance#7",
    }
    fields.update(overrides)
    return BadgeRequest(**fields)


def body(message: str) -> dict:
    return {"data": {"message": message}}


class Scripted:
    """A stand-in Session that replays a script of responses or exceptions, recording calls."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.calls: list[tuple[str, str]] = []

    def request(self, method, url, **kwargs):
        assert kwargs["timeout"] == (5.0, 30.0)
        assert kwargs["auth"] == ("tok", "")
        self.calls.append((method, url.rsplit("/v1", 1)[1], kwargs.get("params")))
        step = self.steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        status, payload = step[:2]
        response = requests.Response()
        response.status_code = status
        response._content = b"" if payload is None else json.dumps(payload).encode()
        response.headers.update(step[2] if len(step) > 2 else {})
        return response


def scripted_client(*steps, **options) -> tuple[CredlyClient, Scripted]:
    session = Scripted(*steps)
    options = {"backoff_base": 0.001, "backoff_cap": 0.002, "limiter": TokenBucket(None), **options}
    return CredlyClient("http://h/v1", "tok", "o", session=session, **options), session


def api_badge(badge_id="b-1", earner="earner-abc", state="pending", email=EMAIL,
              first="Jane", last="Doe"):
    # Credly returns whom it issued the badge to, as make_request names them by default.
    return {
        "id": badge_id,
        "state": state,
        "recipient_email": email,
        "issued_to_first_name": first,
        "issued_to_last_name": last,
        "issuer_earner_id": earner,
        "badge_template": {"id": TEMPLATE},
        "issued_at": "2024-07-01T17:00:00.000Z",
    }


def page(*badges):
    return (200, {"data": list(badges), "metadata": {"next_page_url": None}})


SECRET_URL = f"/v1/organizations/o/badges?filter=recipient_email%3A%3A{EMAIL}"


def refused() -> requests.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111]")
    return requests.ConnectionError(MaxRetryError(None, SECRET_URL, reason))


def dropped() -> requests.ConnectionError:
    return requests.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")),
    )
