"""The operator console (the Badging page, docs/console.md) on a real Airflow: who may see it,
and what an operator sees for a quarantined, an ineligible and an issued certification, in
Debian's Chromium."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import pytest
import requests

from devstack.airflow_services import ADMIN, AirflowServices, AirflowSite, interrupted_by
from devstack.ports import free_port
from devstack.seed import SeedParams

DAY = date(2026, 5, 12)
SEED = SeedParams(date_from=date(2026, 5, 1), date_to=date(2026, 5, 12), rows=300,
                  dirty_rate=0.1, seed=15)
# A user of the simple auth manager without a role: authenticated, allowed nothing.
NOBODY = "nobody"
ROUTES = ("/badging/", "/badging/runs", "/badging/sites", "/badging/api/runs",
          "/badging/api/sites", "/badging/api/certifications/1",
          "/badging/runs/any/correction-report", "/badging/runs/any/data-docs",
          "/badging/data-docs/index.html")


@dataclass
class Console:
    """A running Airflow with the console, and tokens for an admin and for a user with no
    role."""

    site: AirflowSite
    admin_token: str = field(repr=False)
    nobody_token: str = field(repr=False)

    def get(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return _http().get(f"{self.site.url}{path}", timeout=60, allow_redirects=False,
                           headers={"Authorization": f"Bearer {token}"} if token else {},
                           **kwargs)


def _http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback only: no proxy sees the tokens
    return session


def _token(site: AirflowSite, username: str, password: str) -> str:
    response = _http().post(f"{site.url}/auth/token", timeout=30,
                            json={"username": username, "password": password})
    response.raise_for_status()
    return response.json()["access_token"]


def _airflow(stack, components: tuple[str, ...] | None = None) -> Iterator[Console]:
    site = AirflowSite(stack, free_port())
    env = site.env(use_job_schedule=False)
    env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = f"{ADMIN}:admin,{NOBODY}:"
    passwords = json.loads(site.passwords_file.read_text()) | {NOBODY: "nobody-password"}
    site.passwords_file.write_text(json.dumps(passwords))
    kwargs = {"components": components} if components else {}
    services = AirflowServices(site, env=env, **kwargs)
    with interrupted_by(signal.SIGTERM), services:
        yield Console(site, _token(site, *site.login), _token(site, NOBODY, "nobody-password"))
    assert services.leftovers() == [], "an Airflow process outlived the test"


@pytest.fixture
def api_only(clean_stack, airflow_ready) -> Iterator[Console]:
    """An API server (the console's only host) on an empty ledger."""
    yield from _airflow(clean_stack, ("api-server",))


def test_every_route_needs_an_airflow_user_who_may_read_the_dag(api_only):
    for path in ROUTES:
        assert api_only.get(path).status_code == 401, path
        assert api_only.get(path, "not-a-jwt").status_code == 403, path
        assert api_only.get(path, api_only.nobody_token).status_code == 403, path
    # The student lookup is a POST (a student id stays out of URLs and access logs).
    post = _http().post(f"{api_only.site.url}/badging/api/students", json={"student_id": 7},
                        timeout=30)
    assert post.status_code == 401
    # The admin may: empty pages on an empty ledger, reports the run does not have are 404.
    ok = api_only.get("/badging/api/runs", api_only.admin_token)
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"runs": []}
    trail = api_only.get("/badging/api/certifications/1", api_only.admin_token).json()
    assert trail["found"] is False
    assert api_only.get("/badging/runs", api_only.admin_token).status_code == 200
    # The UI's session cookie authenticates too (the page is shown in the UI's iframe).
    page = _http().get(f"{api_only.site.url}/badging/", timeout=30,
                       cookies={"_token": api_only.admin_token})
    assert page.status_code == 200
    assert "Why did this student get no badge?" in page.text
    # Reports only by run id, from the run summary; a path goes nowhere.
    assert api_only.get("/badging/runs/none/correction-report",
                        api_only.admin_token).status_code == 404
    # (requests itself resolves a plain "../"; these reach the route as written.)
    for path in ("/badging/data-docs/..%2F..%2Fairflow_secrets.json",
                 "/badging/data-docs/%2e%2e/%2e%2e/airflow_secrets.json",
                 "/badging/data-docs//etc/passwd", "/badging/data-docs/%2Fetc%2Fpasswd"):
        assert api_only.get(path, api_only.admin_token).status_code == 404, path
    # The API server's other routes are unaffected by the plugin.
    assert api_only.get("/api/v2/monitor/health").status_code == 200
