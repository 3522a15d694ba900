"""Notifications with the real DAG and a real SMTP server: each site's morning list, the
operators' red-run alert, no personal data in any message, and a relay outage survived."""

from __future__ import annotations

import email
import re
import signal
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email.message import Message
from pathlib import Path

import psycopg
import pytest

from badging.core.constants import AGENCY_TZ, DAG_ID
from devstack import airflow_local
from devstack.airflow_api import AirflowApi
from devstack.airflow_services import AirflowServices, AirflowSite, interrupted_by
from devstack.mail_sink import messages
from devstack.ports import free_port
from devstack.seed import SeedParams, run_seed
from tests.e2e.outcomes import runs_for, terminal_events
from tests.fixtures.pii import Secrets, files, mails
from tests.fixtures.polling import wait_until

DAY = date(2026, 5, 12)
# The lateness test's deadline, hours after the logical date (see the `scheduling` fixture).
LATE_AFTER_HOURS = 24
SEED = SeedParams(date_from=date(2026, 4, 20), date_to=date(2026, 5, 14), rows=900,
                  dirty_rate=0.08, seed=11)
# Ineligible reasons nobody at a site can act on (the correction report's "Nothing: …").
NOTHING_TO_DO = {"deleted", "vendor_badge", "before_program_launch", "no_badge_template",
                 "opted_out", "already_issued"}
ALERT_TO = "badging-operators@careertech.example.org"


def _parse(path: Path) -> Message:
    return email.message_from_bytes(path.read_bytes())


def _html(message: Message) -> str:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/html"]
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def _listed_ids(message: Message) -> list[int]:
    found = re.findall(r"Certification ids: ([0-9 ]+)", _html(message))
    return sorted(int(i) for line in found for i in line.split())


def _contacts(stack) -> dict[str, str]:
    """Contact address -> site code, from CTIMS itself."""
    with psycopg.connect(stack.dsn("ctims")) as conn:
        return {e: s for s, e in conn.execute(
            "SELECT site_code, contact_email FROM ctims.sites WHERE contact_email IS NOT NULL")}


def _expected_lists(stack, day: date) -> dict[str, list[int]]:
    """Per site with a contact, the ids to fix: from the audit log and CTIMS, not notify code."""
    with psycopg.connect(stack.dsn("ctims")) as conn:
        sites = dict(conn.execute(
            "SELECT certification_id, btrim(site_code) FROM ctims.realtime_certifications"))
    known = set(_contacts(stack).values())
    lists: dict[str, list[int]] = defaultdict(list)
    for cert_id, events in terminal_events(stack, runs_for(stack, day)[-1]).items():
        event, reason = events[-1]
        to_fix = event == "quarantined" or (event == "ineligible" and reason not in NOTHING_TO_DO)
        if to_fix and sites[cert_id] in known:
            lists[sites[cert_id]].append(cert_id)
    return {site: sorted(ids) for site, ids in lists.items()}


def _site_lists(stack, day: date) -> dict[str, Message]:
    """The site lists in the sink for `day`, by site code; one message per site asserted."""
    contacts = _contacts(stack)
    found: dict[str, Message] = {}
    for path in messages(stack.paths.mail):
        message = _parse(path)
        if message["To"] == ALERT_TO or f"({day.isoformat()})" not in message["Subject"]:
            continue
        site = contacts[message["To"]]
        assert site not in found, f"two lists for site {site} on {day}"
        found[site] = message
    return found


def _deliveries(stack) -> dict[str, int]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return dict(conn.execute(
            "SELECT delivery, count(*) FROM badging.site_list GROUP BY delivery"))


@pytest.fixture
def seeded(clean_stack):
    run_seed(SEED, clean_stack.dsn("ctims"), clean_stack.dsn("badging"))
    clean_stack.sync_templates()
    clean_stack.ensure_mail()
    return clean_stack


def _leaks(stack) -> list[str]:
    """Student data in any message: headers and the decoded body (the raw file is base64)."""
    return Secrets.of(stack).leaks([*mails(stack.paths.mail), *files(stack.paths.mail)])


def test_a_dirty_day_sends_each_site_exactly_its_ids_once_and_no_personal_data(seeded, run_dag):
    first = run_dag(DAY)
    assert first.succeeded, first.output[-4000:]
    expected = _expected_lists(seeded, DAY)
    assert len(expected) >= 3, "the seed must give several sites entries to fix"
    sent = _site_lists(seeded, DAY)
    assert {site: _listed_ids(m) for site, m in sent.items()} == expected
    for site, message in sent.items():
        assert f"/badging/sites/{site}" in _html(message)
    assert _deliveries(seeded) == {"sent": len(expected)}

    # A re-run of the day sends nothing new.
    before = messages(seeded.paths.mail)
    again = run_dag(DAY)
    assert again.succeeded, again.output[-4000:]
    assert messages(seeded.paths.mail) == before
    assert _deliveries(seeded) == {"sent": len(expected)}

    leaks = _leaks(seeded)
    assert leaks == [], leaks


def test_switched_off_sites_get_nothing(seeded, run_dag):
    with psycopg.connect(seeded.dsn("ctims")) as conn:
        sites = [s for (s,) in conn.execute("SELECT btrim(site_code) FROM ctims.sites")]
    with psycopg.connect(seeded.dsn("badging")) as conn:
        # Before any extract saw the sites: the switch is kept when the contacts arrive.
        for site in sites:
            conn.execute("INSERT INTO badging.site_contact (site_code, seen_at, lists_enabled) "
                         "VALUES (%s, now(), false)", (site,))
    result = run_dag(DAY)
    assert result.succeeded, result.output[-4000:]
    assert messages(seeded.paths.mail) == []
    assert "switched_off" in result.output


def test_a_red_run_sends_one_alert_naming_the_red_task(seeded, run_dag):
    # More than 0% of rows failing validation is a broken feed for this run.
    result = run_dag(DAY, max_failed_share=0.0)
    assert not result.succeeded
    sent = [_parse(p) for p in messages(seeded.paths.mail)]
    # Validation failed: the rows were never all decided, so no site gets a list either.
    assert [m["To"] for m in sent] == [ALERT_TO]
    [alert] = sent
    assert alert["Subject"] == f"[credly_badge_issuance] red run for {DAY}: validate failed"
    html = _html(alert)
    assert "validate: DataQualityError" in html or "validate: AirflowFailException" in html
    assert "/dags/credly_badge_issuance/runs/manual__" in html
    leaks = _leaks(seeded)
    assert leaks == [], leaks


def test_with_the_relay_down_the_run_stays_green_and_the_next_run_sends_the_lists(
        seeded, run_dag):
    seeded.stop_mail()
    try:
        down = run_dag(DAY)
    finally:
        seeded.ensure_mail()
    assert down.succeeded, down.output[-4000:]
    assert messages(seeded.paths.mail) == []
    expected = _expected_lists(seeded, DAY)
    assert _deliveries(seeded) == {"failed": len(expected)}

    next_day = run_dag(DAY + timedelta(days=1))
    assert next_day.succeeded, next_day.output[-4000:]
    sent = _site_lists(seeded, DAY)
    assert {site: _listed_ids(m) for site, m in sent.items()} == expected
    assert _deliveries(seeded).get("failed", 0) == 0


@pytest.fixture
def scheduling(clean_stack, airflow_ready) -> Iterator[AirflowApi]:
    """The real scheduler (creating the nightly run), DAG processor, triggerer and API server."""
    stack = airflow_ready
    airflow_local.airflow_cli(stack, "dags", "delete", DAG_ID, "--yes", check=False,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stack.ensure_mail()
    site = AirflowSite(stack, free_port())
    # Late 24 h after the logical date: the nightly run the scheduler creates on unpause has
    # passed that already, whatever the time of day (the default, 30 h, is 06:00 Chicago).
    env = site.env() | {"BADGING_LATE_AFTER_HOURS": str(LATE_AFTER_HOURS)}
    services = AirflowServices(site, components=("api-server", "scheduler", "dag-processor",
                                                 "triggerer"), env=env)
    with interrupted_by(signal.SIGTERM), services:
        api = AirflowApi(site)
        api.wait_for_dag(DAG_ID)
        yield api
    assert services.leftovers() == [], "an Airflow process outlived the test"


def _callback_ids(stack) -> list[str]:
    with psycopg.connect(stack.dsn("airflow")) as conn:
        return [str(id_) for (id_,) in conn.execute("SELECT id FROM callback")]


def _deadline_callbacks(stack, earlier: list[str]) -> list[str]:
    """The states of the deadline callbacks made since `earlier` (the session's other tests
    leave theirs: a backfill test's old days are past their deadlines too)."""
    with psycopg.connect(stack.dsn("airflow")) as conn:
        return [state for (state,) in conn.execute(
            "SELECT state FROM callback WHERE NOT (id::text = ANY(%s))", (earlier,))]


def _deadlines(stack, run_id: str) -> list[datetime]:
    """The deadlines Airflow created for the run."""
    with psycopg.connect(stack.dsn("airflow")) as conn:
        return [row[0] for row in conn.execute(
            "SELECT d.deadline_time FROM deadline d JOIN dag_run r ON r.id = d.dagrun_id "
            "WHERE r.run_id = %s", (run_id,))]


def test_a_scheduled_run_late_at_6am_pages_the_operators_and_a_backfill_does_not(
        clean_stack, scheduling):
    api = scheduling
    # The nightly run the scheduler creates on unpause: the last full Chicago day.
    today = datetime.now(AGENCY_TZ).date()
    latest = datetime(today.year, today.month, today.day, tzinfo=AGENCY_TZ) - timedelta(days=1)
    old_day = datetime(2026, 5, 12, tzinfo=AGENCY_TZ)
    earlier = _callback_ids(clean_stack)
    api.patch(f"/dags/{DAG_ID}", {"is_paused": False})
    backfill = api.post("/backfills", {"dag_id": DAG_ID, "from_date": old_day.isoformat(),
                                       "to_date": old_day.isoformat(), "dag_run_conf": {},
                                       "reprocess_behavior": "none", "max_active_runs": 1})
    try:
        check_lateness_alerts(api, clean_stack, earlier, latest)
    finally:
        # A backfill left running blocks every later backfill of the DAG (409).
        api.wait_for_backfill(backfill["id"], 600)


def check_lateness_alerts(api, clean_stack, earlier: list[str], latest: datetime) -> None:
    # The nightly run's deadline is past when it is created: the scheduler hands its callback
    # to the triggerer at once. The backfill's run gets no deadline (badging/airflow/deadline.py).
    def callback_ended() -> bool:
        states = _deadline_callbacks(clean_stack, earlier)
        return len(states) == 1 and set(states) <= {"success", "failed"}

    wait_until(callback_ended, timeout=600, interval=2, what="the lateness callback to end")
    runs = {r["run_type"]: r["dag_run_id"]
            for r in api.get_all(f"/dags/{DAG_ID}/dagRuns", "dag_runs")}
    assert set(runs) == {"scheduled", "backfill"}
    assert _deadline_callbacks(clean_stack, earlier) == ["success"]
    assert _deadlines(clean_stack, runs["scheduled"]) == [latest + timedelta(
        hours=LATE_AFTER_HOURS)]
    assert _deadlines(clean_stack, runs["backfill"]) == []
    sent = [_parse(p) for p in messages(clean_stack.paths.mail)]
    assert [(m["To"], m["Subject"]) for m in sent] == [(ALERT_TO, (
        f"[credly_badge_issuance] run for {latest.date()} not finished by 00:00 "
        "America/Chicago"))]
