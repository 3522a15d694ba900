"""Whom a badge names, as CTIMS has it now: digests of a usable name and address, or why CTIMS
names no usable recipient (docs/recipient-corrections.md).

A NULL, blank or malformed email or name is *unknown*, not changed: a replica missing a
student's row, or a field cleared for a night, must never replace or move a badge. Names and
addresses never leave this module: the ledger sees keyed digests and reasons only.
"""

from __future__ import annotations

from dataclasses import dataclass

from badging.core.constants import Reason
from badging.core.recipients import recipient_digests, recipient_problem


@dataclass(frozen=True)
class RecipientNow:
    """A badge's recipient as CTIMS has it now: digests, or the problem that makes it unknown.

    No name or address: safe for the database and for comparisons.
    """

    recipient_digest: str | None
    name_digest: str | None
    problem: Reason | None

    @classmethod
    def of(cls, secret: str, email: str | None, first_name: str | None,
           last_name: str | None) -> RecipientNow:
        problem = recipient_problem(email, first_name, last_name)
        if problem is not None:
            return cls(None, None, problem)
        return cls(*recipient_digests(secret, email, first_name, last_name), None)

    @property
    def target(self) -> str | None:
        """The finding's detail of a recipient change: both digests, or None when unknown."""
        if self.problem is not None:
            return None
        return f"{self.recipient_digest}:{self.name_digest}"
