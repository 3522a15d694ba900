"""The sandbox's own tests: `api`, an authenticated session with the contract's templates in."""

from __future__ import annotations

import pytest

from tests.devstack.integration.credly_sandbox.contract import TEMPLATES


@pytest.fixture
def api(sandbox):
    sandbox.put_templates(TEMPLATES)
    return sandbox.client()
