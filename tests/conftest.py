"""Shared pytest fixtures: real Postgres and a real Credly sandbox, started once per session."""

pytest_plugins = [
    "tests.fixtures.browser",
    "tests.fixtures.sandbox",
    "tests.fixtures.stack",
]
