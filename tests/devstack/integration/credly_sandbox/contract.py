"""What the sandbox's contract tests share: the templates they put in, a valid badge body, and
the checks of Credly's answers."""

from __future__ import annotations

from itertools import count

ACTIVE = "contract-active"
OTHER = "contract-other"
DUPES_OK = "contract-dupes-ok"
DRAFT = "contract-draft"
ARCHIVED = "contract-archived"
TEMPLATES = [
    {"id": ACTIVE, "name": "Welding Level 1", "state": "active"},
    {"id": OTHER, "name": "CPR", "state": "active"},
    {"id": DUPES_OK, "name": "Attendance", "state": "active", "allow_duplicate_badges": True},
    {"id": DRAFT, "name": "Not yet", "state": "draft"},
    {"id": ARCHIVED, "name": "Retired", "state": "archived"},
]
# The expired-badge switch at its default, beside the one a test sets.
EXPIRED_OFF = {"expired_blocks_reissue": False}
_serial = count()


def badge_body(**overrides):
    n = next(_serial)
    body = {
        "recipient_email": f"earner{n}@example.org",
        "badge_template_id": ACTIVE,
        "issued_to_first_name": "Test",
        "issued_to_last_name": f"Earner{n}",
        "issued_at": "2024-03-05 14:30:00 -0600",
        "issuer_earner_id": f"earner-{n}",
    }
    body.update(overrides)
    return body


def issue(sandbox, api, **overrides):
    response = api.post(f"{sandbox.org_url}/badges", json=badge_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()["data"]


def assert_error(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"data"}
    assert isinstance(body["data"]["message"], str)
    assert body["data"]["message"]
    return body["data"]["message"]


def revoke(sandbox, api, badge):
    url = f"{sandbox.org_url}/badges/{badge['id']}/revoke"
    assert api.put(url, json={"reason": "entered in error"}).status_code == 200
