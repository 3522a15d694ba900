"""Whose badge is it: matching the badges Credly holds to one earner, for a duplicate 422, a
lost response and a history load's adoption (docs/exactly-once.md, docs/history-load.md)."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import TYPE_CHECKING

from badging.core import clock
from badging.core.constants import Reason
from badging.core.errors import CredlyInvalidRequest
from badging.core.names import NameKey
from badging.credly.payloads import REVOKED, BadgeHolder, BadgeRequest, IssuedBadge

if TYPE_CHECKING:
    from badging.credly.client import CredlyClient

# Why a duplicate 422 could not be resolved to this earner's badge, for the operator.
UNRESOLVED_DUPLICATE = {
    Reason.OTHER_EARNER: "recipient email already holds this badge under another "
                         "issuer_earner_id",
    "revoked": "the recipient holds a revoked badge of this template; Credly refuses a new one",
    "expired": "the recipient holds an expired badge of this template; Credly refuses a new one",
    Reason.SHARED_EMAIL: "Credly holds a badge of this template for this email without an "
                         "earner id, and several students use the email: a person must decide "
                         "whose it is",
    Reason.NAME_MISMATCH: "Credly holds a badge of this template for this email without an "
                          "earner id, issued to another name: a person must decide whose it is",
    None: "Credly reports a duplicate but no matching badge was found",
}


def earners_badge(
    listed: Iterable[tuple[IssuedBadge, BadgeHolder]], *, template_id: str, email: str,
    earner_id: str, email_shared: bool, name: NameKey,
) -> tuple[IssuedBadge | None, str | None]:
    """Which of Credly's badges is this earner's badge of this template, if any.

    Credly calls a badge a duplicate on the same template and the same email (or user, or
    earner id). Siblings often share a parent's email, so a badge held under a different
    issuer_earner_id is not this earner's: taking it would record the wrong badge. A badge
    with no earner id (issued by hand or by Credly's bulk upload) is the earner's only when no
    other student uses the email (`email_shared`; otherwise the obstacle is
    ``"shared_email"``) and it names the earner (`name`, compared folded: badging.core.names;
    otherwise ``"name_mismatch"``: an older sibling no longer in CTIMS, say). A revoked or
    expired badge is never the earner's live badge: a renewal's own lookup must not find the
    earlier period's badge (docs/ledger.md, "Certification periods").

    Args:
        listed: candidate badges with whom each was issued to (email "" when unknown).
        name: the earner's first and last name as CTIMS has them, folded.

    Returns:
        (badge, None) when found, preferring the one with this earner id; otherwise
        (None, why), why being a `badging.core.constants.Reason` (``other_earner``,
        ``shared_email``, ``name_mismatch``), ``"revoked"``, ``"expired"``, or None when no
        candidate is this earner's and nothing stands in the way.
    """
    email = email.strip().lower()
    now = clock.now()
    exact = unclaimed = None
    obstacle = None
    for badge, holder in listed:
        if badge.template_id and badge.template_id != template_id:
            continue
        mine = badge.issuer_earner_id == earner_id
        # Found under another address: only its earner id makes it this earner's. (A server
        # filter by email is trusted when Credly leaves the address out of the list.)
        if not mine and holder.email and holder.email != email:
            continue
        if badge.state == REVOKED:
            obstacle = obstacle or "revoked"
        elif badge.expired(now):
            obstacle = obstacle or "expired"
        elif mine:
            exact = exact or badge
        elif badge.issuer_earner_id is None and email_shared:
            obstacle = obstacle or Reason.SHARED_EMAIL
        elif badge.issuer_earner_id is None and not name.matches(holder.name):
            obstacle = obstacle or Reason.NAME_MISMATCH
        elif badge.issuer_earner_id is None:
            unclaimed = unclaimed or badge
        else:
            obstacle = Reason.OTHER_EARNER
    found = exact or unclaimed
    return found, (None if found else obstacle)


def lookup_existing(client: CredlyClient,
                    req: BadgeRequest) -> tuple[IssuedBadge | None, str | None]:
    """Find the earner's live badge for req's template by template and email, under the
    rules of `earners_badge` (the shared-email care).

    Returns:
        (badge, None) when found; otherwise (None, why) as `earners_badge` says.
    """
    filters = {"badge_template_id": req.template_id, "recipient_email": req.recipient_email}
    try:
        candidates = client.find_badges(filters, sort="-issued_at")
    except ValueError:
        # An email holding "|" or "," cannot be expressed as a filter; Credly's own
        # duplicate check still guards a repeated POST.
        return None, None
    return earners_badge(
        ((IssuedBadge.from_api(item), BadgeHolder.from_api(item)) for item in candidates),
        template_id=req.template_id, email=req.recipient_email, earner_id=req.earner_id,
        email_shared=req.email_shared, name=NameKey.of(req.first_name, req.last_name))

def lookup_by_earner_id(client: CredlyClient, req: BadgeRequest) -> IssuedBadge | None:
    """Find the earner's badge by issuer_earner_id, for a duplicate under an older email.

    Credly's support for this filter is not confirmed: a refusal means "not found", and
    only the first page is read, each item checked here, so a server that ignored the
    filter costs one request rather than a walk through the whole template.
    """
    filters = {"badge_template_id": req.template_id, "issuer_earner_id": req.earner_id}
    try:
        for item in islice(client.find_badges(filters), 50):
            badge = IssuedBadge.from_api(item)
            if (
                badge.issuer_earner_id == req.earner_id
                and badge.state != REVOKED
                and not badge.expired(clock.now())
                and badge.template_id in (None, req.template_id)
            ):
                return badge
    except (ValueError, CredlyInvalidRequest):
        return None
    return None
