"""CredlyHook for real: a connection that reaches the sandbox, and the UI's "Credly" form."""

from __future__ import annotations

import json

import pytest

from badging.airflow.provider_info import CREDLY_CONN_FIELDS
from badging.credly.hook import CredlyHook
from badging.credly.ratelimit import TokenBucket
from devstack.airflow_api import AirflowApi
from devstack.airflow_services import AirflowServices, AirflowSite
from devstack.ports import free_port
from tests.integration.credly.badges import request


def credly_api(monkeypatch, sandbox, conn_type: str, **extra) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CREDLY_API", json.dumps({
        "conn_type": conn_type,
        "host": sandbox.base_url,
        "password": sandbox.token,
        "extra": {"organization_id": sandbox.org_id, **extra},
    }))


# "http": the type production connections had before the hook; they must keep working.
@pytest.mark.parametrize("conn_type", ["credly", "http"])
def test_the_hook_talks_to_the_sandbox(credly, monkeypatch, conn_type):
    credly_api(monkeypatch, credly, conn_type, rate_limit_per_s=50)
    client = CredlyHook(limiter=TokenBucket(None)).get_conn()
    assert client.get_organization()["id"] == credly.org_id
    assert client.issue_badge(request(1)).outcome == "issued"


def test_the_test_button_checks_token_and_organization(credly, monkeypatch):
    credly_api(monkeypatch, credly, "credly")
    ok, message = CredlyHook().test_connection()
    assert ok, message
    credly.set_tokens(revoke=[credly.token])
    ok, message = CredlyHook().test_connection()
    assert not ok
    assert "401" in message
    assert credly.token not in message


@pytest.fixture(scope="module")
def api_server(airflow_ready):
    """Airflow's API server alone (what serves the UI), on a free port of the test stack."""
    site = AirflowSite(airflow_ready, free_port())
    with AirflowServices(site, components=("api-server",)):
        yield AirflowApi(site)


def test_the_ui_offers_a_credly_connection_form(api_server):
    # What the React UI builds its connection form from; this package's provider metadata
    # (the apache_airflow_provider entry point) is the only thing that puts "credly" there.
    forms = {form["connection_type"]: form for form in api_server.get_ui("/connections/hook_meta")}
    credly = forms["credly"]
    assert (credly["hook_name"], credly["hook_class_name"]) == (
        "Credly", "badging.credly.hook.CredlyHook")
    standard = credly["standard_fields"]
    assert standard["password"]["title"] == "Authorization token"
    assert standard["host"]["title"] == "API base URL"
    assert all(standard[name]["hidden"] for name in ("url_schema", "login", "port"))
    extra = credly["extra_fields"]
    assert set(extra) == set(CREDLY_CONN_FIELDS)
    assert extra["organization_id"]["schema"]["title"] == "Organization ID"
    assert extra["earner_id_secret"]["schema"]["format"] == "password"
    assert extra["suppress_badge_notification_email"]["schema"]["type"] == ["boolean", "null"]
