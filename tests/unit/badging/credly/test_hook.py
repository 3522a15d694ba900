"""Unit tests for badging.credly.hook: the connection's forms, fields and complaints."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from badging.airflow.provider_info import CREDLY_CONN_FIELDS
from badging.core.errors import ConfigurationError
from badging.credly.hook import CredlyHook, base_url_from
from badging.credly.ratelimit import TokenBucket

# --- the Airflow hook -------------------------------------------------------------------------


def test_the_hook_is_the_credly_connection_type():
    assert (CredlyHook.conn_type, CredlyHook.hook_name) == ("credly", "Credly")
    assert (CredlyHook.conn_name_attr, CredlyHook.default_conn_name) == (
        "credly_conn_id", "credly_api")
    assert CredlyHook().credly_conn_id == "credly_api"


def conn(host, schema=None, port=None):
    return SimpleNamespace(host=host, schema=schema, port=port)


@pytest.mark.parametrize(
    ("connection", "expected"),
    [
        (conn("https://api.credly.com/v1"), "https://api.credly.com/v1"),
        (conn("https://api.credly.com/v1/"), "https://api.credly.com/v1"),
        (conn("http://127.0.0.1:8765/v1"), "http://127.0.0.1:8765/v1"),
        (conn("http://127.0.0.1/v1", port=8765), "http://127.0.0.1:8765/v1"),
        (conn("api.credly.com/v1", schema="https"), "https://api.credly.com/v1"),
        (conn("localhost/v1", schema="http", port=8765), "http://localhost:8765/v1"),
        (conn("api.credly.com", schema="v1"), "https://api.credly.com/v1"),
        (conn("api.credly.com"), "https://api.credly.com/v1"),
    ],
)
def test_base_url_from_the_forms_a_connection_takes(connection, expected):
    assert base_url_from(connection) == expected


def test_a_connection_without_host_is_a_configuration_error():
    with pytest.raises(ConfigurationError):
        base_url_from(conn(""))


def connection_env(monkeypatch, conn_type="credly", **fields):
    monkeypatch.setenv("AIRFLOW_CONN_CREDLY_TEST", json.dumps({"conn_type": conn_type, **fields}))


# "http": the type production connections had before the hook; they must keep working.
@pytest.mark.parametrize("conn_type", ["credly", "http"])
def test_the_hook_reads_host_password_and_extra(monkeypatch, conn_type):
    connection_env(
        monkeypatch,
        conn_type,
        host="http://127.0.0.1:8765/v1",
        password="s3cret-token-value",
        extra={
            "organization_id": "org-1",
            "locale": "en",
            "suppress_badge_notification_email": "true",
            "read_timeout": "12",
        },
    )
    client = CredlyHook("credly_test", limiter=TokenBucket(None)).get_conn()
    assert client.base_url == "http://127.0.0.1:8765/v1"
    assert client.organization_id == "org-1"
    assert client.timeout == (5.0, 12.0)
    assert (client.locale, client.suppress_notification) == ("en", True)
    assert "s3cret-token-value" not in repr(client)


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"host": "http://h/v1", "password": "t0ken-value"}, "organization_id"),
        ({"host": "http://h/v1", "extra": {"organization_id": "o"}}, "token"),
        ({"host": "http://h/v1", "login": "t0ken-value", "extra": {"organization_id": "o"}},
         "password"),
    ],
)
def test_the_hook_refuses_incomplete_connections(monkeypatch, fields, complaint):
    connection_env(monkeypatch, **fields)
    with pytest.raises(ConfigurationError, match=complaint) as caught:
        CredlyHook("credly_test").get_conn()
    assert "t0ken-value" not in str(caught.value)


def test_every_field_of_the_connection_form_reaches_the_client(monkeypatch):
    values = {
        "organization_id": "org-1", "earner_id_secret": "k3y-value", "rate_limit_per_s": 7.5,
        "rate_limit_burst": 3, "locale": "es", "suppress_badge_notification_email": True,
        "suppress_revoke_notification_email": True, "connect_timeout": 2, "read_timeout": 9,
        "token_created_on": "2026-01-05", "token_rotation_days": 180,
    }
    assert set(values) == set(CREDLY_CONN_FIELDS)  # a new form field needs a line here
    connection_env(monkeypatch, host="https://api.credly.com/v1", password="t", extra=values)
    hook = CredlyHook("credly_test")
    client = hook.get_conn()
    assert (client.organization_id, client.locale, client.suppress_notification) == (
        "org-1", "es", True)
    assert client.timeout == (2.0, 9.0)
    assert (client.transport.limiter.rate_per_s, client.transport.limiter.burst) == (7.5, 3)
    assert hook.earner_id_secret() == "k3y-value"
    assert hook.suppresses_revoke_notification() is True
    # The token's age is the report's (outcomes/health.py, the console's Templates page).
    from datetime import date

    from badging.outcomes.health import token_facts

    assert token_facts(hook.get_connection("credly_test").extra_dejson) == (date(2026, 1, 5),
                                                                           180)


def test_revocations_notify_earners_unless_the_connection_says_not(monkeypatch):
    connection_env(monkeypatch, host="http://h/v1", password="t",
                   extra={"organization_id": "o"})
    assert CredlyHook("credly_test").suppresses_revoke_notification() is False


def test_a_missing_earner_id_secret_is_a_configuration_error(monkeypatch):
    connection_env(monkeypatch, host="http://h/v1", password="t",
                   extra={"organization_id": "o"})
    with pytest.raises(ConfigurationError, match="earner_id_secret"):
        CredlyHook("credly_test").earner_id_secret()


def test_the_test_button_reports_a_bad_connection_without_its_secret(monkeypatch):
    connection_env(monkeypatch, host="http://h/v1", login="t0ken-value",
                   extra={"organization_id": "o"})
    ok, message = CredlyHook("credly_test").test_connection()
    assert not ok
    assert "password" in message
    assert "t0ken-value" not in message


