"""The unit lane stays a unit lane: collecting it loads none of the stack-bound helpers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# What `make test-unit` collects (the Makefile's UNIT_TESTS).
UNIT_TESTS = ["tests/unit", "tests/devstack/unit"]
# Helpers of the tests that need a running stack: a conftest or a unit test importing one
# brings the end-to-end machinery (and its imports) into every run of the fast lane.
STACK_BOUND = ("tests.e2e", "tests.faults", "tests.integration", "tests.devstack.integration",
               "tests.fixtures.browser", "tests.fixtures.ledger", "playwright")

_PROBE = """
import json, sys
import pytest
code = pytest.main(["--collect-only", "-qq", "-p", "no:cacheprovider", *sys.argv[1:]])
print(json.dumps({"code": int(code), "modules": sorted(sys.modules)}))
"""


def test_collecting_the_unit_lane_imports_no_stack_bound_helper():
    # A fresh process: this one may have collected the whole suite (`make test`).
    done = subprocess.run([sys.executable, "-c", _PROBE, *UNIT_TESTS], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe["code"] == 0, done.stdout[-3000:]
    assert [m for m in probe["modules"] if m.startswith(STACK_BOUND)] == []
    # The probe did look: the unit tests themselves were imported.
    assert "tests.unit.test_lanes" in probe["modules"]
