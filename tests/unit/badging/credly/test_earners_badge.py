"""Which Credly badge is an earner's: the rule adoption and the duplicate lookup share."""

from __future__ import annotations

from badging.credly.client import earners_badge
from badging.credly.payloads import IssuedBadge

TEMPLATE, OTHER = "tpl-a", "tpl-b"


def _badge(badge_id: str, earner: str | None = None, state: str = "pending",
           template: str = TEMPLATE) -> IssuedBadge:
    return IssuedBadge(id=badge_id, state=state, template_id=template,
                       issuer_earner_id=earner, issued_at=None)


def _choose(listed, email="ada@example.org", shared=False):
    return earners_badge(listed, template_id=TEMPLATE, email=email, earner_id="okct-1",
                         email_shared=shared)


def test_the_earner_id_wins_whatever_the_address_and_before_an_unclaimed_badge():
    mine = _badge("b1", "okct-1")
    listed = [(_badge("b0"), "ada@example.org"), (mine, "old@example.org")]
    assert _choose(listed) == (mine, None)
    # An address cleared since: the earner id still finds it.
    assert _choose([(mine, "old@example.org")], email="") == (mine, None)


def test_a_badge_without_earner_id_is_the_earner_s_only_at_an_unshared_address():
    unclaimed = _badge("b0")
    assert _choose([(unclaimed, "ada@example.org")]) == (unclaimed, None)
    assert _choose([(unclaimed, "ada@example.org")], shared=True) == (None, "shared_email")
    assert _choose([(unclaimed, "other@example.org")]) == (None, None)
    assert _choose([(unclaimed, "ada@example.org")], email="") == (None, None)


def test_another_earner_a_revoked_badge_and_another_template_are_never_taken():
    assert _choose([(_badge("b2", "okct-9"), "ada@example.org")]) == (None, "other_earner")
    assert _choose([(_badge("b3", "okct-1", "revoked"), "ada@example.org")]) == (
        None, "revoked")
    assert _choose([(_badge("b4", "okct-1", template=OTHER), "ada@example.org")]) == (
        None, None)
