"""Who a badge names (docs/recipient-corrections.md): a certification's recipient as CTIMS
has it now, why a value is unknown rather than corrected, and the keyed surrogates the ledger
and Credly see instead of the student: the earner id and the recipient digests."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from badging.core import db
from badging.core.constants import Reason

# One @, no spaces, a dot in the domain: the least an address Credly can mail must have
# (the data-quality suite's email checks are stricter; this only tells unknown from usable).
_USABLE_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def recipient_problem(email: str | None, first_name: str | None,
                      last_name: str | None) -> Reason | None:
    """Why these CTIMS values name no usable recipient, or None when they do.

    A NULL, blank or malformed email or name is unknown, never a correction: a replica
    missing a student's row, or a field cleared for a night, must not move, rename or
    issue a badge (docs/recipient-corrections.md).
    """
    address = (email or "").strip()
    if not address:
        return Reason.EMAIL_BLANK
    if not _USABLE_EMAIL.fullmatch(address):
        return Reason.EMAIL_MALFORMED
    if not (first_name or "").strip() or not (last_name or "").strip():
        return Reason.NAME_BLANK
    return None


@dataclass(frozen=True)
class EntryFacts:
    """What a certification entry says besides its student, with the CTIMS names of its codes
    (None when CTIMS does not know one): the badge's evidence (badging.reports.evidence).
    No student data."""

    certification_id: int
    test_date: date | None
    assessment_code: str | None = None
    assessment_name: str | None = None
    program_code: str | None = None
    program_name: str | None = None
    site_code: str | None = None
    site_name: str | None = None


@dataclass(frozen=True)
class Recipient:
    """Who a certification's badge goes to, as CTIMS has it now; PII, so never logged.

    The name and address are None when CTIMS has no student row for the entry.
    """

    email: str | None = field(repr=False)
    first_name: str | None = field(repr=False)
    last_name: str | None = field(repr=False)
    test_date: date
    # Another student uses the same email (badging.credly.BadgeRequest.email_shared).
    email_shared: bool
    # The entry itself (its codes and their names), for the badge's evidence.
    entry: EntryFacts | None = None

    @property
    def problem(self) -> Reason | None:
        """Why CTIMS names no usable recipient now (recipient_problem), or None."""
        return recipient_problem(self.email, self.first_name, self.last_name)


def recipients(certification_ids: Iterable[int], *,
               ctims: str = db.CTIMS_CONN_ID) -> dict[int, Recipient]:
    """The live CTIMS details of these certifications, by id; deleted ones are left out, and
    one whose student CTIMS does not hold has no name or address (Recipient.problem)."""
    with db.connect(ctims, read_only=True) as source:
        rows = db.execute(source, "core/recipients/recipients.sql",
                          {"certification_ids": list(certification_ids)}).fetchall()
    return {certification_id: Recipient(email, first, last, test_date, shared,
                                        EntryFacts(certification_id, test_date, *names))
            for certification_id, email, first, last, test_date, shared, *names in rows}


def entries_as_issued(keys: list[tuple[int, str, date]], *,
                      ctims: str = db.CTIMS_CONN_ID) -> set[tuple[int, str, date]]:
    """Which (student, assessment, test date) keys CTIMS holds a live, undeleted entry of now:
    a revoked badge's entry back as it was when the badge was issued."""
    params = {"student_ids": [k[0] for k in keys], "assessment_codes": [k[1] for k in keys],
              "test_dates": [k[2] for k in keys]}
    with db.connect(ctims, read_only=True) as source:
        return {tuple(row) for row in db.execute(source, "core/recipients/entries_now.sql", params)}


def earner_id(secret: str, student_id: int) -> str:
    """The student's issuer_earner_id for Credly: a keyed hash, stable, never the raw id."""
    digest = hashlib.sha256(f"{secret}:{student_id}".encode()).hexdigest()
    return f"okct-{digest[:40]}"


def recipient_digests(secret: str, email: str | None, first_name: str | None,
                      last_name: str | None) -> tuple[str, str]:
    """Keyed digests of whom a badge names (address; first|last name), with the earner id's
    secret: the ledger sees a correction without holding the name or the address."""
    def digest(text: str) -> str:
        return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:40]

    email_text = (email or "").strip().lower()
    name_text = f"{(first_name or '').strip()}|{(last_name or '').strip()}"
    return digest(f"email:{email_text}"), digest(f"name:{name_text}")
