"""The privacy scan finds student data where it is written, and nothing that only looks like it."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

import pytest

from tests.fixtures.pii import Secrets, mails

IDS = {str(n) for n in range(1_000_001, 1_004_001)}
BADGE_ID = "3f2b9c1e-8d4a-4f6b-9a7e-2c5d1e0f4b6a"
SCAN = Secrets.of_values(emails={"zoe.miller+ok@students.example.org"}, names={"Zoë Miller"},
                         ids=IDS, token="tok-123-secret", badge_ids={BADGE_ID})


@pytest.mark.parametrize(("text", "kind"), [
    ("failed for student 1000001", "student_id"),
    ('{"student_id": 1003999}', "student_id"),
    ("id=1000002, next", "student_id"),
    ("recipient ZOE.MILLER+ok@students.example.org", "email"),
    ("name zoë miller", "name"),
    ("Authorization: Basic tok-123-secret", "credly_token"),
    # A badge's public page names its earner (issue 27).
    (f"Credly PUT /v1/organizations/o/badges/{BADGE_ID}/revoke: 503", "credly_badge_id"),
    (f"[badge credly#{BADGE_ID.upper()}]", "credly_badge_id"),
])
def test_student_data_is_found(text, kind):
    assert SCAN.leaks([("log", text)]) == [f"log: {kind} (1)"]


@pytest.mark.parametrize("text", [
    "took 1.1000001 s",              # a fraction
    "row 21000001 of the table",     # a longer number
    "version 1000001.2",
    "badge e1000234-4a0b-4c1d-9e2f-a1000123f00d",  # digits inside a hex identifier
    "issuance#123 done",
    "Credly PUT /v1/organizations/o/badges/…/revoke: 503 [badge revocation#12]",
    "template 6f0e7a52-0000-4000-8000-000000000001",  # another uuid: a template's
])
def test_numbers_that_only_look_like_ids_are_not(text):
    assert SCAN.leaks([("log", text)]) == []


def test_random_uuids_never_count_as_student_ids():
    # The old rule (digits not next to digits) found a seeded id in about one uuid4 in 20,000.
    text = " ".join(str(uuid.uuid4()) for _ in range(200_000))
    assert SCAN.leaks([("log", text)]) == []


def test_mail_bodies_are_scanned_decoded(tmp_path):
    """The sink keeps base64 bodies: a raw scan of the .eml would find nothing."""
    message = EmailMessage()
    message["Subject"] = "[credly_badge_issuance] red run"
    message.set_content(f"<p>revoke failed: badge {BADGE_ID}</p>", subtype="html",
                        cte="base64")
    (tmp_path / "0001.eml").write_bytes(message.as_bytes())
    assert BADGE_ID not in (tmp_path / "0001.eml").read_text()
    assert SCAN.leaks(mails(tmp_path)) == ["mail 0001.eml: credly_badge_id (1)"]
