"""The privacy scan finds student data where it is written, and nothing that only looks like it."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.pii import Secrets

IDS = {str(n) for n in range(1_000_001, 1_004_001)}
SCAN = Secrets.of_values(emails={"zoe.miller+ok@students.example.org"}, names={"Zoë Miller"},
                         ids=IDS, token="tok-123-secret")


@pytest.mark.parametrize(("text", "kind"), [
    ("failed for student 1000001", "student_id"),
    ('{"student_id": 1003999}', "student_id"),
    ("id=1000002, next", "student_id"),
    ("recipient ZOE.MILLER+ok@students.example.org", "email"),
    ("name zoë miller", "name"),
    ("Authorization: Basic tok-123-secret", "credly_token"),
])
def test_student_data_is_found(text, kind):
    assert SCAN.leaks([("log", text)]) == [f"log: {kind} (1)"]


@pytest.mark.parametrize("text", [
    "took 1.1000001 s",              # a fraction
    "row 21000001 of the table",     # a longer number
    "version 1000001.2",
    "badge e1000234-4a0b-4c1d-9e2f-a1000123f00d",  # digits inside a hex identifier
    "issuance#123 done",
])
def test_numbers_that_only_look_like_ids_are_not(text):
    assert SCAN.leaks([("log", text)]) == []


def test_random_uuids_never_count_as_student_ids():
    # The old rule (digits not next to digits) found a seeded id in about one uuid4 in 20,000.
    text = " ".join(str(uuid.uuid4()) for _ in range(200_000))
    assert SCAN.leaks([("log", text)]) == []
