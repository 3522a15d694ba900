"""State survives a crash and restart on the same file; reset empties badges but not templates."""

from __future__ import annotations

import secrets
import uuid

import pytest

from devstack.credly_sandbox.process import SandboxStartError, start_sandbox
from devstack.ports import free_port
from tests.devstack.integration.credly_sandbox.contract import EXPIRED_OFF

TEMPLATE = {"id": "persist-active", "name": "Persist", "state": "active"}


def badge_body(n):
    return {
        "recipient_email": f"persist{n}@example.org",
        "badge_template_id": TEMPLATE["id"],
        "issued_to_first_name": "Persist",
        "issued_to_last_name": f"Earner{n}",
        "issued_at": "2024-03-05 14:30:00 -0600",
        "issuer_earner_id": f"persist-{n}",
    }


def test_state_survives_kill_and_restart(tmp_path):
    org_id = str(uuid.uuid4())
    token = secrets.token_hex(8)
    process = start_sandbox(
        port=free_port(),
        state_path=tmp_path / "state.sqlite",
        org_id=org_id,
        token=token,
        templates=[TEMPLATE],
    )
    try:
        from tests.fixtures.sandbox import SandboxHandle

        handle = SandboxHandle(process)
        api = handle.client()
        created = [api.post(f"{handle.org_url}/badges", json=badge_body(n)) for n in range(3)]
        assert [r.status_code for r in created] == [201, 201, 201]
        first_id = created[0].json()["data"]["id"]
        api.put(f"{handle.org_url}/badges/{first_id}/revoke", json={"reason": "test"})
        assert api.post(f"{handle.org_url}/badges", json=badge_body(1)).status_code == 422
        before = handle.badges()
        old_pid = process.pid

        process.restart(hard=True)

        assert process.pid != old_pid
        assert handle.badges() == before
        state = handle.state()
        assert state["badges"] == {"revoked": 1, "pending": 2}
        assert state["duplicates_refused"] == 1
        # Templates came back from the file, and the duplicate rule still sees the old badges.
        assert api.get(f"{handle.org_url}/badge_templates/{TEMPLATE['id']}").status_code == 200
        again = api.post(f"{handle.org_url}/badges", json=badge_body(2))
        assert again.status_code == 422
        fresh = api.post(f"{handle.org_url}/badges", json=badge_body(3))
        assert fresh.status_code == 201
        listed = api.get(f"{handle.org_url}/badges", params={"sort": "created_at"}).json()["data"]
        assert [badge["id"] for badge in listed][:3] == [badge["id"] for badge in before]
    finally:
        process.stop()
    assert not process.running


@pytest.mark.parametrize("how", ["flag", "env"])
def test_revoked_blocks_reissue_from_the_launch_survives_restart_and_reset(
    tmp_path, monkeypatch, how
):
    monkeypatch.delenv("CREDLY_SANDBOX_REVOKED_BLOCKS_REISSUE", raising=False)
    if how == "env":
        # start_sandbox hands its own environment on to the child.
        monkeypatch.setenv("CREDLY_SANDBOX_REVOKED_BLOCKS_REISSUE", "true")
    process = start_sandbox(
        port=free_port(),
        state_path=tmp_path / "state.sqlite",
        org_id=str(uuid.uuid4()),
        token=secrets.token_hex(8),
        templates=[TEMPLATE],
        behavior={"revoked_blocks_reissue": True} if how == "flag" else None,
    )
    try:
        from tests.fixtures.sandbox import SandboxHandle

        handle = SandboxHandle(process)
        api = handle.client()
        badge_id = api.post(f"{handle.org_url}/badges", json=badge_body(20)).json()["data"]["id"]
        api.put(f"{handle.org_url}/badges/{badge_id}/revoke", json={"reason": "test"})
        process.restart(hard=True)
        assert api.post(f"{handle.org_url}/badges", json=badge_body(20)).status_code == 422
        assert handle.reset()["behavior"] == {"revoked_blocks_reissue": True} | EXPIRED_OFF
    finally:
        process.stop()


def test_reset_clears_badges_counters_and_faults_but_keeps_templates(sandbox):
    sandbox.put_templates([TEMPLATE])
    api = sandbox.client()
    api.post(f"{sandbox.org_url}/badges", json=badge_body(10))
    api.post(f"{sandbox.org_url}/badges", json=badge_body(10))
    sandbox.set_faults(latency_ms=1, error_rate=0.1)
    assert sandbox.state()["duplicates_refused"] == 1

    state = sandbox.reset()

    assert state["badges"] == {}
    assert state["duplicates_refused"] == 0
    assert state["requests"] == {}
    assert state["faults"]["error_rate"] == 0
    assert state["faults"]["latency_ms"] == 0
    assert sandbox.badges() == []
    assert api.get(f"{sandbox.org_url}/badge_templates/{TEMPLATE['id']}").status_code == 200
    assert api.post(f"{sandbox.org_url}/badges", json=badge_body(10)).status_code == 201


def test_a_sandbox_that_cannot_start_reports_its_log(tmp_path):
    with pytest.raises(SandboxStartError, match="log tail"):
        start_sandbox(
            port=free_port(),
            state_path=tmp_path / "state.sqlite",
            org_id=str(uuid.uuid4()),
            token="t",
            faults={"error_rate": 5},
            ready_timeout=10,
        )
