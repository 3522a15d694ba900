"""Fixtures of the product's integration tests beyond the session stack (tests/conftest.py)."""

# Fixtures, found by name: pytest reads a conftest's module attributes.
from tests.fixtures.browser import chromium, offline_page, serve_folder  # noqa: F401
from tests.fixtures.ledger import client, planned  # noqa: F401
