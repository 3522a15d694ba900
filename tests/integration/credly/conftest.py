"""Fixtures of the Credly integration tests."""

from __future__ import annotations

import pytest

from tests.integration.credly.badges import TEMPLATES


@pytest.fixture
def credly(sandbox):
    """The sandbox with our templates in place."""
    sandbox.put_templates(TEMPLATES)
    return sandbox
