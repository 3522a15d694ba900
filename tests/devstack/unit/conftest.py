"""Unit tests (`make test-unit`): no Postgres, no sandbox, no Airflow services."""

from tests.fixtures.no_stack import credly_sandbox  # noqa: F401 (a fixture, by name)
