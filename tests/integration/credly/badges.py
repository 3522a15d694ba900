"""The sandbox's badge templates and badge requests the Credly integration tests share."""

from __future__ import annotations

from datetime import date

from badging.credly import BadgeRequest

ACTIVE = "11111111-1111-4111-8111-000000000001"
OTHER = "11111111-1111-4111-8111-000000000002"
ARCHIVED = "11111111-1111-4111-8111-000000000003"
TEMPLATES = [
    {"id": ACTIVE, "name": "Welding I", "state": "active", "allow_duplicate_badges": False},
    {"id": OTHER, "name": "Welding II", "state": "active", "allow_duplicate_badges": False},
    {"id": ARCHIVED, "name": "Old Welding", "state": "archived", "allow_duplicate_badges": False},
]



def request(n: int = 1, *, template: str = ACTIVE, email: str | None = None) -> BadgeRequest:
    return BadgeRequest(
        recipient_email=email or f"student{n}@example.org",
        first_name=f"First{n}",
        last_name=f"Last{n}",
        template_id=template,
        issued_at=date(2024, 7, 1),
        earner_id=f"earner-{n}",
        badge_key=f"issuance#{n}",
    )
