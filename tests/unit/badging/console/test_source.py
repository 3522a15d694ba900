"""The console says so when the badging database cannot be reached (badging/console/source.py)."""

from __future__ import annotations

import time

import pytest

from badging.console.source import ConsoleUnavailable, reading
from devstack.ports import free_port


def test_an_unreachable_database_is_console_unavailable_naming_only_the_error_class():
    dsn = f"postgresql://someone:secret-password@127.0.0.1:{free_port()}/badging"
    started = time.monotonic()
    with pytest.raises(ConsoleUnavailable) as caught, reading(dsn):
        pass
    assert time.monotonic() - started < 15
    assert str(caught.value) == "the badging database is not reachable (OperationalError)"
    assert caught.value.__cause__ is None


def test_a_missing_connection_is_console_unavailable(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_BADGING_CONSOLE_NONE", raising=False)
    with pytest.raises(ConsoleUnavailable), reading("badging_console_none"):
        pass
