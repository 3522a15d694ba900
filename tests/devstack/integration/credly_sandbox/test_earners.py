"""The sandbox's earners accept or reject a share of badges after a delay; someone else can
revoke or delete a badge by hand; the sync's list filters and sorts (issue 14)."""

from __future__ import annotations

from devstack.credly_sandbox.earners import Earners
from tests.devstack.integration.credly_sandbox.contract import assert_error, issue
from tests.fixtures.polling import wait_until


def listed(sandbox, api, **params):
    response = api.get(f"{sandbox.org_url}/badges", params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_earners_decide_the_predicted_share_after_the_delay(sandbox, api):
    knob = sandbox.set_earners(accept_share=0.5, reject_share=0.25, delay_s=1.0)
    assert knob == {"accept_share": 0.5, "reject_share": 0.25, "delay_s": 1.0}
    badges = [issue(sandbox, api) for _ in range(40)]
    # Before the delay nobody has acted.
    assert {b["state"] for b in listed(sandbox, api, filter="state::pending,accepted,rejected")
            } == {"pending"}
    expected = {b["id"]: Earners(0.5, 0.25, 1.0).decision(b["id"]) or "pending" for b in badges}
    wait_until(lambda: {b["id"]: b["state"] for b in sandbox.badges()} == expected, timeout=10,
               what="the earners' decisions once the delay has passed")
    assert {"accepted", "rejected", "pending"} == set(expected.values())
    # Credly's state_updated_at is when the earner acted: creation + delay.
    accepted = next(b for b in sandbox.badges() if b["state"] == "accepted")
    assert accepted["state_updated_at"] > accepted["created_at"]
    # Decided once: changing the knob later does not change a decided badge.
    sandbox.set_earners(accept_share=0.0, reject_share=1.0, delay_s=0.0)
    assert {b["id"]: b["state"] for b in sandbox.badges()} == expected


def test_idle_earners_leave_badges_pending_and_reset_idles_them(sandbox, api):
    badge = issue(sandbox, api)
    assert sandbox.badges()[0]["state"] == "pending"
    sandbox.set_earners(accept_share=1.0)
    assert api.get(f"{sandbox.org_url}/badges/{badge['id']}").json()["data"]["state"] == "accepted"
    assert sandbox.reset()["earners"] == {"accept_share": 0.0, "reject_share": 0.0,
                                          "delay_s": 0.0}


def test_earner_knob_is_validated(sandbox):
    for body in ({"accept_share": 0.8, "reject_share": 0.3}, {"delay_s": -1},
                 {"mood": 1}, {"accept_share": True}):
        response = sandbox._http.post(f"{sandbox.root_url}/_sandbox/earners", json=body)
        assert response.status_code == 422, body


def test_by_hand_revoke_and_delete_and_the_sync_filters(sandbox, api):
    kept, revoked, deleted, expired = (issue(sandbox, api) for _ in range(4))
    sandbox.revoke_badge(revoked["id"])
    sandbox.delete_badge(deleted["id"])
    sandbox.set_badge_state(expired["id"], "expired")
    # Not API traffic: the request counters see only the issues.
    assert sum(sandbox.state()["requests"].values()) == 4
    live = listed(sandbox, api, filter="state::pending,accepted", sort="created_at")
    assert [b["id"] for b in live] == [kept["id"]]
    final = listed(sandbox, api, filter="state::rejected,revoked,expired",
                   sort="-state_updated_at")
    assert [b["id"] for b in final] == [expired["id"], revoked["id"]]
    assert_error(api.get(f"{sandbox.org_url}/badges/{deleted['id']}"), 404)
