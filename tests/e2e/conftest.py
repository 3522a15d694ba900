"""Fixtures of the end-to-end tests beyond the session stack (tests/conftest.py)."""

# Fixtures, found by name: pytest reads a conftest's module attributes.
from tests.e2e.corrections import issued  # noqa: F401
from tests.e2e.hitl import api  # noqa: F401
from tests.fixtures.browser import chromium, offline_page, serve_folder  # noqa: F401
