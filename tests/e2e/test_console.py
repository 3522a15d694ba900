"""The operator console (the Badging page, docs/console.md) on a real Airflow: who may see it,
and what an operator sees for a quarantined, an ineligible and an issued certification, in
Debian's Chromium."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import psycopg
import pytest
import requests

from devstack.airflow_services import ADMIN, AirflowServices, AirflowSite, interrupted_by
from devstack.ports import free_port
from devstack.seed import SeedParams, run_seed

DAY = date(2026, 5, 12)
SEED = SeedParams(date_from=date(2026, 5, 1), date_to=date(2026, 5, 12), rows=300,
                  dirty_rate=0.1, seed=15)
# A user of the simple auth manager without a role: authenticated, allowed nothing.
NOBODY = "nobody"
ROUTES = ("/badging/", "/badging/runs", "/badging/sites", "/badging/api/runs",
          "/badging/api/sites", "/badging/api/certifications/1",
          "/badging/runs/any/correction-report", "/badging/runs/any/data-docs",
          "/badging/data_docs/index.html")


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


@contextmanager
def _airflow(stack, components: tuple[str, ...] | None = None,
             **env_overrides: str) -> Iterator[Console]:
    site = AirflowSite(stack, free_port())
    env = site.env(use_job_schedule=False) | env_overrides
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
    with _airflow(clean_stack, ("api-server",)) as console:
        yield console


def test_every_route_needs_an_airflow_user_who_may_read_the_dag(api_only):
    for path in ROUTES:
        assert api_only.get(path).status_code == 401, path
        assert api_only.get(path, "not-a-jwt").status_code == 403, path
        assert api_only.get(path, api_only.nobody_token).status_code == 403, path
    # A page opened without a session says where to log in (and comes back).
    assert "/auth/login" in api_only.get("/badging/sites/012345678").text
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
    # Ids beyond a bigint, and a student id that is not one, are refused before any query
    # (and not echoed).
    assert api_only.get(f"/badging/api/certifications/{2**63}",
                        api_only.admin_token).status_code == 422
    refused = _http().post(f"{api_only.site.url}/badging/api/students", timeout=30,
                           json={"student_id": "12x45"},
                           headers={"Authorization": f"Bearer {api_only.admin_token}"})
    assert refused.status_code == 422
    assert "12x45" not in refused.text
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
    for path in ("/badging/data_docs/..%2F..%2Fairflow_secrets.json",
                 "/badging/data_docs/%2e%2e/%2e%2e/airflow_secrets.json",
                 "/badging/data_docs//etc/passwd", "/badging/data_docs/%2Fetc%2Fpasswd"):
        assert api_only.get(path, api_only.admin_token).status_code == 404, path
    # The API server's other routes are unaffected by the plugin.
    assert api_only.get("/api/v2/monitor/health").status_code == 200


def test_the_page_says_so_when_the_badging_database_is_down(clean_stack, airflow_ready):
    closed = f"postgresql://badging@127.0.0.1:{free_port()}/badging"
    with _airflow(clean_stack, ("api-server",), AIRFLOW_CONN_BADGING_DB=closed) as console:
        page = console.get("/badging/", console.admin_token, params={"certification_id": 1})
        assert page.status_code == 503
        assert "cannot read the badging database" in page.text
        assert "OperationalError" in page.text
        as_json = console.get("/badging/api/runs", console.admin_token)
        assert as_json.status_code == 503
        assert as_json.json()["detail"].startswith("the badging database is not reachable")
        # Airflow itself is unaffected, and anonymous requests are still refused first.
        assert console.get("/api/v2/monitor/health").status_code == 200
        assert console.get("/badging/api/runs").status_code == 401


@pytest.fixture
def ran_day(clean_stack, airflow_ready, run_dag, sandbox):
    """A seeded day run by the real DAG: quarantined, ineligible and issued entries."""
    run_seed(SEED, clean_stack.dsn("ctims"), clean_stack.dsn("badging"))
    clean_stack.sync_templates()
    result = run_dag(DAY, lookback_days=3)
    assert result.succeeded, result.output[-4000:]
    return clean_stack


@pytest.fixture
def airflow(ran_day) -> Iterator[Console]:
    """`make airflow`: every component (API server, scheduler, DAG processor, triggerer)."""
    with _airflow(ran_day) as console:
        yield console


def _one_of_each(stack) -> dict[str, int]:
    """A certification per outcome, from the audit log (not from the console's queries)."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        return dict(conn.execute("""
            SELECT DISTINCT ON (event) event, certification_id FROM badging.audit_log
            WHERE event IN ('quarantined', 'ineligible', 'issued')
              -- a quarantined entry with a site to show on its site's page
              AND (event <> 'quarantined' OR certification_id IN (
                   SELECT certification_id FROM badging.quarantine
                   WHERE site_code ~ '^[0-9]{9}$'))
            ORDER BY event, certification_id""").fetchall())


def _quarantined_site(stack, certification_id: int) -> str:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT site_code FROM badging.quarantine "
                            "WHERE certification_id = %s", (certification_id,)).fetchone()[0]


def _student_of(stack, certification_id: int) -> int:
    with psycopg.connect(stack.dsn("ctims")) as conn:
        return conn.execute("SELECT student_id FROM ctims.realtime_certifications "
                            "WHERE certification_id = %s", (certification_id,)).fetchone()[0]


def _personal_data(stack, certification_id: int) -> list[str]:
    with psycopg.connect(stack.dsn("ctims")) as conn:
        row = conn.execute("""
            SELECT s.first_name, s.last_name, s.email, s.student_id::text
            FROM ctims.realtime_certifications c JOIN ctims.students s USING (student_id)
            WHERE c.certification_id = %s""", (certification_id,)).fetchone()
    # Short names (Ava, Le) are ordinary substrings of a page; the rest are not.
    return [v.strip() for v in row[:3] if v and len(v.strip()) >= 5]


@pytest.mark.browser
def test_an_operator_finds_out_why_in_the_badging_page(airflow, chromium):
    ids = _one_of_each(airflow.site.stack)
    assert set(ids) == {"quarantined", "ineligible", "issued"}, ids

    # The same data as JSON, for scripts.
    issued = airflow.get(f"/badging/api/certifications/{ids['issued']}",
                         airflow.admin_token).json()
    [badge] = issued["badges"]
    assert badge["fields"]["state"] == "issued"
    assert badge["fields"]["credly_badge_id"]
    assert issued["headline"].startswith("Badge issued")
    assert "student_id" not in json.dumps(issued)
    for certification_id in ids.values():
        html = airflow.get(f"/badging/?certification_id={certification_id}",
                           airflow.admin_token)
        assert html.status_code == 200, html.text[-2000:]
    # By student: a POST, so the id stays out of URLs and the API server's access log.
    student_id = _student_of(airflow.site.stack, ids["issued"])
    by_student = _http().post(f"{airflow.site.url}/badging/api/students", timeout=60,
                              json={"student_id": student_id},
                              headers={"Authorization": f"Bearer {airflow.admin_token}"})
    assert by_student.status_code == 200, by_student.text[-2000:]
    assert ids["issued"] in [c["certification_id"] for c in by_student.json()["certifications"]]
    form = _http().post(f"{airflow.site.url}/badging/", data={"student_id": str(student_id)},
                        cookies={"_token": airflow.admin_token}, timeout=60)
    assert f'id="certification-{ids["issued"]}"' in form.text
    # The page each technology center's morning list links to lists its quarantined entry.
    site = _quarantined_site(airflow.site.stack, ids["quarantined"])
    items = airflow.get(f"/badging/api/sites/{site}", airflow.admin_token).json()["items"]
    assert ids["quarantined"] in [item["certification_id"] for item in items]
    runs = airflow.get("/badging/api/runs", airflow.admin_token).json()["runs"]
    assert [r["logical_date"] for r in runs] == [DAY.isoformat()]

    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        _log_in(page, airflow.site)
        page.get_by_role("link", name="Badging").click()
        console = page.frame_locator("iframe")
        console.get_by_role("heading", name="Why did this student get no badge?").wait_for()
        shown = {}
        for outcome, certification_id in ids.items():
            console.locator("input[name=certification_id]").fill(str(certification_id))
            console.locator("input[name=certification_id]").press("Enter")
            trail = console.locator(f"#certification-{certification_id}")
            trail.wait_for()
            shown[outcome] = trail.inner_text()
            _screenshot(page, f"console_lookup_{outcome}")
            # The runbook's picture (docs/operations.md; docs/img/console-lookup.png is one).
            trail.screenshot(path=str(_screenshots() / f"console_trail_{outcome}.png"))
            for value in _personal_data(airflow.site.stack, certification_id):
                assert value not in shown[outcome], "a name or email shown unmasked"
        assert "Quarantined: the entry failed" in shown["quarantined"]
        assert "What to do:" in shown["quarantined"]
        assert "Not eligible:" in shown["ineligible"]
        assert f"Badge issued (Credly badge {badge['fields']['credly_badge_id']}" \
            in shown["issued"]
        assert "***@" in shown["issued"]  # the email, masked
        # Each step links to its run in Airflow.
        run_link = console.locator("section.trail table.events a").first
        assert "/dags/credly_badge_issuance/runs/" in run_link.get_attribute("href")

        console.get_by_role("link", name="Runs").click()
        console.locator("table.runs a.correction-report").first.wait_for()
        _screenshot(page, "console_runs")
        console.locator("table.runs a.correction-report").first.click()
        console.get_by_role("heading", name="Real-Time entries to correct").wait_for()
        _screenshot(page, "console_correction_report")
        # The report's own links to the run's Data Docs work where the console serves it.
        console.get_by_role("link", name="Data Docs: realtime_rows").first.click()
        console.locator("nav.navbar a.navbar-brand").wait_for()
        _screenshot(page, "console_data_docs")
        page.goto(f"{airflow.site.url}/plugin/badging")
        console.get_by_role("link", name="Sites").click()
        console.locator("table.sites").wait_for()
        _screenshot(page, "console_sites")

        # The DAG's Trigger form: the params, each with its description.
        page.goto(f"{airflow.site.url}/dags/credly_badge_issuance")
        page.get_by_role("button", name="Trigger").first.click()
        form = page.get_by_role("dialog")
        form.wait_for()
        _screenshot(page, "trigger_form")
        text = form.inner_text()
        for description in ("Also take rows changed this many days before the day",
                            "Decide and audit (would_issue) without calling Credly"):
            assert description in text
    finally:
        context.close()


def _log_in(page, site: AirflowSite) -> None:
    username, password = site.login
    page.goto(f"{site.url}/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/auth/" not in url)


def _screenshots():
    from tests.fixtures.browser import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def _screenshot(page, name: str) -> None:
    page.wait_for_timeout(300)
    page.screenshot(path=str(_screenshots() / f"{name}.png"), full_page=True)
