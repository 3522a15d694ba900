"""Which Credly badge is an earner's: the rule adoption and the duplicate lookup share."""

from __future__ import annotations

from datetime import UTC, datetime

from badging.core.names import NameKey
from badging.credly.matching import earners_badge
from badging.credly.payloads import BadgeHolder, IssuedBadge

TEMPLATE, OTHER = "tpl-a", "tpl-b"
ADA = NameKey.of("Ada", "Probe")


def _badge(badge_id: str, earner: str | None = None, state: str = "pending",
           template: str = TEMPLATE) -> IssuedBadge:
    return IssuedBadge(id=badge_id, state=state, template_id=template,
                       issuer_earner_id=earner, issued_at=None)


def _to(email: str, first: str | None = "Ada", last: str | None = "Probe") -> BadgeHolder:
    return BadgeHolder(email, NameKey.of(first, last))


def _choose(listed, email="ada@example.org", shared=False, name=ADA):
    return earners_badge(listed, template_id=TEMPLATE, email=email, earner_id="okct-1",
                         email_shared=shared, name=name)


def test_the_earner_id_wins_whatever_the_address_and_before_an_unclaimed_badge():
    mine = _badge("b1", "okct-1")
    listed = [(_badge("b0"), _to("ada@example.org")), (mine, _to("old@example.org"))]
    assert _choose(listed) == (mine, None)
    # An address cleared since: the earner id still finds it.
    assert _choose([(mine, _to("old@example.org"))], email="") == (mine, None)


def test_a_badge_without_earner_id_is_the_earner_s_only_at_an_unshared_address():
    unclaimed = _badge("b0")
    assert _choose([(unclaimed, _to("ada@example.org"))]) == (unclaimed, None)
    assert _choose([(unclaimed, _to("ada@example.org"))], shared=True) == (None, "shared_email")
    assert _choose([(unclaimed, _to("other@example.org"))]) == (None, None)
    assert _choose([(unclaimed, _to("ada@example.org"))], email="") == (None, None)


def test_another_earner_a_revoked_badge_and_another_template_are_never_taken():
    assert _choose([(_badge("b2", "okct-9"), _to("ada@example.org"))]) == (
        None, "other_earner")
    assert _choose([(_badge("b3", "okct-1", "revoked"), _to("ada@example.org"))]) == (
        None, "revoked")
    assert _choose([(_badge("b4", "okct-1", template=OTHER), _to("ada@example.org"))]) == (
        None, None)


# Issue 27: an older sibling's badge, issued by hand to the family address, is not taken.

def test_a_badge_without_earner_id_that_names_someone_else_is_not_the_earner_s():
    """Before: any unclaimed badge at an unshared address was taken, whatever its name."""
    sibling = _badge("b5")
    assert _choose([(sibling, _to("ada@example.org", "Grace", "Probe"))]) == (
        None, "name_mismatch")
    assert _choose([(sibling, _to("ada@example.org", "Ada", "Lovelace"))]) == (
        None, "name_mismatch")
    # Credly left the name out: it cannot be shown to be the earner's.
    assert _choose([(sibling, _to("ada@example.org", None, None))]) == (None, "name_mismatch")


def test_the_name_is_compared_folded():
    unclaimed = _badge("b6")
    spelled = _to("ada@example.org", "  ÁDA ", "próbe")
    assert _choose([(unclaimed, spelled)]) == (unclaimed, None)


def test_the_earner_s_own_badge_needs_no_name_and_beats_a_sibling_s():
    mine = _badge("b7", "okct-1")
    sibling = _badge("b8")
    listed = [(sibling, _to("ada@example.org", "Grace", "Probe")),
              (mine, _to("ada@example.org", "A.", "P."))]
    assert _choose(listed) == (mine, None)


def test_a_shared_address_still_says_shared_whatever_the_name():
    # Several students use the address: the name alone does not say whose a badge is.
    assert _choose([(_badge("b9"), _to("ada@example.org"))], shared=True) == (
        None, "shared_email")


def test_an_expired_badge_is_not_the_earner_s_live_badge():
    """A renewal's lookup must not find the earlier period's badge (docs/ledger.md)."""
    earlier = IssuedBadge(id="b10", state="expired", template_id=TEMPLATE,
                          issuer_earner_id="okct-1", issued_at=None)
    assert _choose([(earlier, _to("ada@example.org"))]) == (None, "expired")
    # Past its expiry though Credly still says accepted (Credly may mark it late).
    lapsed = IssuedBadge(id="b11", state="accepted", template_id=TEMPLATE,
                         issuer_earner_id="okct-1", issued_at=None,
                         expires_at=datetime(2020, 1, 1, tzinfo=UTC))
    renewal = _badge("b12", "okct-1")
    assert _choose([(lapsed, _to("ada@example.org")),
                    (renewal, _to("ada@example.org"))]) == (renewal, None)
