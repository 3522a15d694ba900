"""Outcomes on a real Airflow (issue 32, docs/outcomes.md): who sees what through the API server,
and an operator and a technology center's contact in Debian's Chromium: the Access form, the
Outcomes page filtered by cluster, its CSV, the Templates page, a morning list's link."""

from __future__ import annotations

import csv
import email
import email.message
import io
import json
import re
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

import psycopg
import pytest
import requests
from playwright.sync_api import expect

from badging.outcomes import calendar
from devstack.airflow_services import ADMIN, AirflowServices, AirflowSite, interrupted_by
from devstack.mail_sink import messages
from devstack.ports import free_port
from devstack.seed import SeedParams, run_seed

DAY = date(2026, 5, 12)
SEED = SeedParams(date_from=date(2026, 5, 1), date_to=date(2026, 5, 12), rows=300,
                  dirty_rate=0.1, seed=15)
# A technology center's contact (Airflow's viewer role: may read the DAG, not edit it),
# and a user without a role.
CONTACT, NOBODY = "contact", "nobody"
PASSWORDS = {CONTACT: "contact-password", NOBODY: "nobody-password"}
NEW_ROUTES = ("/badging/outcomes", "/badging/api/outcomes", "/badging/outcomes.csv",
              "/badging/templates", "/badging/api/templates", "/badging/access",
              "/badging/api/access")


@dataclass
class Agency:
    """A running API server, tokens per user, and the sites of the history."""

    site: AirflowSite
    tokens: dict[str, str] = field(repr=False)
    own: str = ""
    other: str = ""

    def get(self, path: str, user: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        return _http().get(f"{self.site.url}{path}", timeout=60, allow_redirects=False,
                           headers=headers, **kwargs)


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
def _airflow(stack) -> Iterator[Agency]:
    site = AirflowSite(stack, free_port())
    env = site.env(use_job_schedule=False)
    env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = f"{ADMIN}:admin,{CONTACT}:viewer,{NOBODY}:"
    site.passwords_file.write_text(json.dumps(json.loads(site.passwords_file.read_text())
                                              | PASSWORDS))
    services = AirflowServices(site, env=env, components=("api-server",))
    with interrupted_by(signal.SIGTERM), services:
        tokens = {ADMIN: _token(site, *site.login),
                  **{user: _token(site, user, password) for user, password in PASSWORDS.items()}}
        yield Agency(site, tokens)
    assert services.leftovers() == [], "an Airflow process outlived the test"


@pytest.fixture
def history(clean_stack, airflow_ready, run_dag, sandbox):
    """Two nights of the real DAG: the first issues badges and mails the sites' morning lists;
    earners accept half of them before the second, whose sync and report count that."""
    clean_stack.ensure_mail()
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("TRUNCATE badging.console_site_user")
    run_seed(SEED, clean_stack.dsn("ctims"), clean_stack.dsn("badging"))
    clean_stack.sync_templates()
    first = run_dag(DAY, lookback_days=3)
    assert first.succeeded, first.output[-4000:]
    assert _template_alerts(clean_stack) == []  # the first judgement is the baseline
    sandbox.set_earners(accept_share=0.5, reject_share=0.1)
    # Someone archives a template in Credly (one no badge of these nights uses).
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        code, template = conn.execute("""
            SELECT assessment_code, credly_template_id FROM badging.badge_templates t
            WHERE active AND NOT EXISTS (SELECT 1 FROM badging.issuance i
                                         WHERE i.assessment_code = t.assessment_code)
            ORDER BY 1 LIMIT 1""").fetchone()
    sandbox.put_templates([{"id": template, "name": code, "state": "archived",
                            "allow_duplicate_badges": False}])
    second = run_dag(DAY + timedelta(days=1), lookback_days=3)
    assert second.succeeded, second.output[-4000:]
    # The operators hear of it once, from the report that found it.
    [alert] = _template_alerts(clean_stack)
    assert alert["Subject"].startswith("[credly_badge_issuance] template health: 1 new problem")
    assert f"{code}: archived" in _html(alert)
    return clean_stack


def _template_alerts(stack) -> list[email.message.Message]:
    found = [email.message_from_bytes(p.read_bytes()) for p in messages(stack.paths.mail)]
    return [m for m in found if "template health" in m["Subject"]]


def _html(message: email.message.Message) -> str:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/html"]
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def _sites_by_badges(stack) -> list[str]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return [s for (s,) in conn.execute(
            "SELECT site_code FROM badging.outcome_badge GROUP BY 1 ORDER BY count(*) DESC, 1")]


def _morning_list_paths(stack) -> dict[str, str]:
    """Per site, the console path its morning list links to (from the mail sink's files)."""
    found = {}
    for path in messages(stack.paths.mail):
        message = email.message_from_bytes(path.read_bytes())
        for part in message.walk():
            if part.get_content_type() == "text/html":
                html = part.get_payload(decode=True).decode()
                for link in re.findall(r'href="https?://[^/"]+(/badging/sites/([0-9]{9}))"', html):
                    found[link[1]] = link[0]
    return found


@pytest.fixture
def agency(history) -> Iterator[Agency]:
    lists = _morning_list_paths(history)
    with_badges = _sites_by_badges(history)
    own = next(s for s in with_badges if s in lists)
    with _airflow(history) as running:
        running.own, running.other = own, next(s for s in with_badges if s != own)
        yield running


def _cert_at(stack, site: str) -> int:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT certification_id FROM badging.outcome_badge "
                            "WHERE site_code = %s ORDER BY 1 LIMIT 1", (site,)).fetchone()[0]


def _grant(agency: Agency, site: str, **headers) -> requests.Response:
    return _http().post(f"{agency.site.url}/badging/access", timeout=30, allow_redirects=False,
                        data={"action": "add", "username": CONTACT, "site_code": site},
                        cookies={"_token": agency.tokens[ADMIN]}, headers=headers)


def _csv(response: requests.Response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.text)))


@pytest.mark.browser
def test_operators_see_every_site_and_a_sites_contact_only_their_own(agency, chromium):
    stack = agency.site.stack
    own, other = agency.own, agency.other
    # Anonymous: 401; without a role: 403; a contact nobody mapped yet: 403.
    for path in NEW_ROUTES:
        assert agency.get(path).status_code == 401, path
        assert agency.get(path, NOBODY).status_code == 403, path
        assert agency.get(path, CONTACT).status_code == 403, path
    # The mapping is an operator's form: refused from another origin, or without one.
    assert _grant(agency, own, Origin="https://evil.example.org").status_code == 403
    assert _grant(agency, own).status_code == 403
    assert agency.get("/badging/api/access", ADMIN).json() == {"mappings": []}
    _figures_are_the_ledgers(agency)

    context = chromium.new_context(viewport={"width": 1400, "height": 1000},
                                   accept_downloads=True)
    page = context.new_page()
    try:
        _log_in(page, agency.site, *agency.site.login)
        page.goto(f"{agency.site.url}/badging/access")
        page.locator("form.grant input[name=username]").fill(CONTACT)
        page.locator("form.grant input[name=site_code]").fill(own)
        page.locator("form.grant button").click()
        page.locator("table.access td code", has_text=CONTACT).wait_for()
        _screenshot(page, "outcomes_access")

        # The operator: every site, the student id in the CSV, the Credly badge id.
        mine = agency.get("/badging/api/outcomes?year=all", ADMIN).json()
        assert {g["code"] for g in mine["by_site"]} == set(_sites_by_badges(stack))
        assert mine["totals"]["accepted"] > 0
        cluster = Counter({g["code"]: g["issued"] for g in mine["by_cluster"]}).most_common(1)
        family = cluster[0][0]
        page.goto(f"{agency.site.url}/plugin/badging")
        console = page.frame_locator("iframe")
        console.get_by_role("link", name="Outcomes").click()
        console.get_by_role("heading", name="Outcomes: what the badges became").wait_for()
        _screenshot(page, "outcomes_operator")
        console.locator("form.filters input[name=cluster]").fill(family)
        console.locator("form.filters select[name=year]").select_option("all")
        console.locator("form.filters button").click()
        # The filtered page: its one cluster (the unfiltered page had them all).
        expect(console.locator("table.by-cluster tr[data-code]")).to_have_count(1)
        expect(console.locator(f"table.by-cluster tr[data-code='{family}']")).to_have_count(1)
        _screenshot(page, "outcomes_operator_cluster")
        with page.expect_download() as download:
            console.locator("a.csv").click()
        rows = _csv_file(download.value.path())
        assert rows[0][-1] == "student_id"
        issued = {g["code"]: g["issued"] for g in mine["by_cluster"]}[family]
        assert len(rows) - 1 == issued
        assert {r[rows[0].index("cluster")] for r in rows[1:]} == {family}
        page.goto(f"{agency.site.url}/badging/templates")
        page.get_by_role("heading", name="Templates and the Credly token").wait_for()
        _screenshot(page, "outcomes_templates")
        issued_cert = _cert_at(stack, own)
        trail = agency.get(f"/badging/api/certifications/{issued_cert}", ADMIN).json()
        assert trail["badges"][0]["fields"]["credly_badge_id"]
    finally:
        context.close()

    # The contact of `own`: that site only, no student, no Credly badge id.
    theirs = agency.get("/badging/api/outcomes?year=all", CONTACT)
    assert theirs.status_code == 200, theirs.text
    assert {g["code"] for g in theirs.json()["by_site"]} == {own}
    for path in (f"/badging/api/outcomes?site={other}", f"/badging/outcomes.csv?site={other}",
                 f"/badging/sites/{other}", f"/badging/api/sites/{other}",
                 f"/badging/api/certifications/{_cert_at(stack, other)}", "/badging/runs",
                 "/badging/api/runs", "/badging/templates", "/badging/access"):
        assert agency.get(path, CONTACT).status_code == 403, path
    assert agency.get(f"/badging/api/sites/{own}", CONTACT).status_code == 200
    shown = agency.get(f"/badging/api/certifications/{_cert_at(stack, own)}", CONTACT).json()
    assert shown["badges"][0]["fields"]["credly_badge_id"] is None
    students = _http().post(f"{agency.site.url}/badging/api/students", timeout=30,
                            json={"student_id": 1},
                            headers={"Authorization": f"Bearer {agency.tokens[CONTACT]}"})
    assert students.status_code == 403
    rows = _csv(agency.get("/badging/outcomes.csv?year=all", CONTACT))
    assert "student_id" not in rows[0]
    assert {r[rows[0].index("site_code")] for r in rows[1:]} == {own}

    context = chromium.new_context(viewport={"width": 1400, "height": 1000},
                                   accept_downloads=True)
    page = context.new_page()
    try:
        # The morning list's link, opened without a session: Airflow's login, then the page.
        path = _morning_list_paths(stack)[own]
        page.goto(f"{agency.site.url}{path}")
        page.locator("a.login").click()
        _log_in_here(page, CONTACT, PASSWORDS[CONTACT])
        page.wait_for_url(f"**{path}")
        page.get_by_role("heading", name=re.compile(f"Site {own}")).wait_for()
        assert page.locator("h2", has_text="Open items").count() == 1
        _screenshot(page, "outcomes_contact_morning_list")
        page.get_by_role("link", name="Outcomes").first.click()
        page.get_by_role("heading", name="Outcomes: what the badges became").wait_for()
        assert page.get_by_role("link", name="Runs").count() == 0
        page.locator("form.filters select[name=year]").select_option("all")
        page.locator("form.filters button").click()
        expect(page.locator("table.by-site tr[data-code]")).to_have_count(1)
        expect(page.locator(f"table.by-site tr[data-code='{own}']")).to_have_count(1)
        _screenshot(page, "outcomes_contact")
        with page.expect_download() as download:
            page.locator("a.csv").click()
        assert "student_id" not in _csv_file(download.value.path())[0]
        page.goto(f"{agency.site.url}/badging/sites/{other}")
        page.get_by_role("heading", name="Not yours to see").wait_for()
        _screenshot(page, "outcomes_contact_other_site")
    finally:
        context.close()


def _figures_are_the_ledgers(agency: Agency) -> None:
    """The JSON's figures, against the ledger read here."""
    stack = agency.site.stack
    with psycopg.connect(stack.dsn("badging")) as conn:
        ledger = Counter(dict(conn.execute("""
            SELECT CASE WHEN state = 'revoked' THEN 'revoked'
                        ELSE coalesce(credly_state, 'pending') END, count(*)
            FROM badging.issuance WHERE issued_at IS NOT NULL GROUP BY 1""").fetchall()))
    figures = agency.get("/badging/api/outcomes?year=all", ADMIN).json()
    assert figures["totals"]["issued"] == sum(ledger.values()) > 0
    assert {k: figures["totals"][k] for k in ledger} == dict(ledger)
    year = calendar.label(calendar.school_year(date.today()))
    assert figures["school_years"] == [year]
    assert agency.get("/badging/api/outcomes?year=2025-27", ADMIN).status_code == 422


def _csv_file(path) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def _log_in(page, site: AirflowSite, username: str, password: str) -> None:
    page.goto(f"{site.url}/")
    _log_in_here(page, username, password)


def _log_in_here(page, username: str, password: str) -> None:
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/auth/" not in url)


def _screenshot(page, name: str) -> None:
    from tests.fixtures.browser import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
