"""Shared pytest fixtures: real Postgres and a real Credly sandbox, started once per session."""

pytest_plugins = [
    "tests.e2e.corrections",
    "tests.e2e.hitl",
    "tests.fixtures.browser",
    "tests.fixtures.ledger",
    "tests.fixtures.sandbox",
    "tests.fixtures.stack",
]

