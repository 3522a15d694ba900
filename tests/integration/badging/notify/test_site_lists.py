"""The morning lists and the late-run alert against real Postgres and the real SMTP sink."""

from __future__ import annotations

import asyncio
import email

import psycopg
import pytest

from badging.core import db
from badging.notify.alerts import alert_late_run
from badging.notify.site_lists import entries_to_fix, send_site_lists
from badging.reports import correction
from devstack.mail_sink import messages

ALERT_TO = "badging-operators@careertech.example.org"


@pytest.fixture
def smtp_env(clean_stack, monkeypatch):
    for key, value in clean_stack.airflow_env().items():
        if key.startswith("AIRFLOW_CONN_"):
            monkeypatch.setenv(key, value)
    clean_stack.ensure_mail()
    return clean_stack


def _recipients(stack) -> list[str]:
    return sorted(email.message_from_bytes(p.read_bytes())["To"]
                  for p in messages(stack.paths.mail))


def _lists(stack) -> dict[str, tuple[str, int, str | None]]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return {site: (delivery, attempts, error) for site, delivery, attempts, error in
                conn.execute("SELECT site_code, delivery, attempts, last_error "
                             "FROM badging.site_list")}


def test_a_refused_address_is_recorded_and_a_corrected_one_gets_the_list(validated, smtp_env):
    stack = smtp_env
    dsn = stack.dsn("badging")
    with db.connect(dsn) as conn:
        contacts = dict(conn.execute("SELECT site_code, contact_email FROM badging.site_contact"))
        # Misspelt site codes have entries but no contact: nobody to tell.
        sites = sorted(set(entries_to_fix(correction.collect(conn, validated)))
                       & set(contacts))
        good_contact = contacts[sites[0]]
        conn.execute("UPDATE badging.site_contact SET contact_email = 'x@refused.invalid' "
                     "WHERE site_code = %s", (sites[0],))
    assert len(sites) >= 2

    counts = send_site_lists(validated, write_new=True, badging=dsn, base="http://ui")
    assert (counts["new"], counts["sent"], counts["failed"]) == (len(sites), len(sites) - 1, 1)
    assert counts["no_contact"] == counts["sites_with_entries"] - len(sites)
    assert len(messages(stack.paths.mail)) == len(sites) - 1
    assert _lists(stack)[sites[0]] == ("failed", 1, "SMTPRecipientsRefused (SMTP 550)")

    # The contact is corrected in CTIMS (the extract copies it); the next run delivers.
    with db.connect(dsn) as conn:
        conn.execute("UPDATE badging.site_contact SET contact_email = %s WHERE site_code = %s",
                     (good_contact, sites[0]))
    again = send_site_lists(validated, write_new=True, badging=dsn, base="http://ui")
    assert (again["new"], again["listed_before"], again["sent"]) == (0, len(sites), 1)
    assert good_contact in _recipients(stack)
    assert len(messages(stack.paths.mail)) == len(sites)
    assert {d for d, _, _ in _lists(stack).values()} == {"sent"}


def test_a_late_scheduled_run_alerts_the_operators_through_the_smtp_notifier(smtp_env):
    context = {"dag_run": {"run_type": "scheduled", "dag_id": "credly_badge_issuance",
                           "dag_run_id": "scheduled__2026-05-12T05:00:00+00:00",
                           "data_interval_start": "2026-05-12T05:00:00+00:00"},
               "deadline": {"id": "x", "deadline_time": "2026-05-13T11:00:00+00:00"}}
    assert asyncio.run(alert_late_run(context)) is True
    [path] = messages(smtp_env.paths.mail)
    message = email.message_from_bytes(path.read_bytes())
    assert message["To"] == ALERT_TO
    assert message["Subject"] == ("[credly_badge_issuance] run for 2026-05-12 not finished by "
                                  "06:00 America/Chicago")
