"""The unit lane stays a unit lane: nothing it loads reaches the stack-bound test helpers."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# What `make test-unit` collects (the Makefile's UNIT_TESTS).
UNIT_TESTS = ["tests/unit", "tests/devstack/unit"]
# Helpers of the tests that need a running stack: a conftest or a unit test importing one
# brings the end-to-end machinery (and its imports) into every run of the fast lane.
STACK_BOUND = ("tests.e2e", "tests.faults", "tests.integration", "tests.devstack.integration",
               "tests.fixtures.browser", "tests.fixtures.ledger", "playwright")


def _file_of(module: str) -> Path | None:
    path = REPO.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported(path: Path) -> set[str]:
    """Every module the file imports, anywhere in it, and the pytest plugins it names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            # `from tests.fixtures import pii` imports the module tests.fixtures.pii.
            found |= {f"{node.module}.{alias.name}" for alias in node.names
                      if _file_of(f"{node.module}.{alias.name}")}
        elif (isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pytest_plugins"
                                                   for t in node.targets)):
            found |= {ast.literal_eval(item) for item in node.value.elts}
    return found


def reachable(start: list[Path]) -> set[str]:
    """The modules these files import, following the repository's own test modules
    (tests.*) to what they import in turn."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        for module in _imported(todo.pop()) - seen:
            seen.add(module)
            path = _file_of(module) if module.startswith("tests.") else None
            if path is not None:
                todo.append(path)
    return seen


def test_the_unit_lane_loads_no_stack_bound_helper():
    lane = [REPO / "tests" / "conftest.py"]
    lane += [path for folder in UNIT_TESTS for path in (REPO / folder).rglob("*.py")]
    reached = reachable(lane)
    assert sorted(m for m in reached if m.startswith(STACK_BOUND)) == []
    # The walk did follow the lane's own helpers and the session plugins.
    assert {"tests.fixtures.no_stack", "tests.fixtures.pii", "tests.fixtures.stack"} <= reached


def test_the_walk_follows_plugins_and_helpers_to_what_they_import(tmp_path):
    conftest = tmp_path / "conftest.py"
    conftest.write_text('pytest_plugins = ["tests.fixtures.stack"]\n'
                        "from tests.e2e import hitl\n")
    reached = reachable([conftest])
    # hitl's own imports, and the plugin's (tests/fixtures/stack.py imports nights.py).
    assert {"tests.e2e.hitl", "devstack.airflow_api", "tests.fixtures.nights"} <= reached
