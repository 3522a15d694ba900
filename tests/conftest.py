"""Shared pytest fixtures: real Postgres and a real Credly sandbox, started once per session."""

pytest_plugins = [
    "tests.e2e.corrections",
    "tests.e2e.hitl",
    "tests.fixtures.browser",
    "tests.fixtures.sandbox",
    "tests.fixtures.stack",
]


# Slowest first: with several test processes (make test), the long end-to-end and fault files
# start at once and the quick unit and integration tests fill the gaps at the end, instead of
# one process finishing alone with a long file. Within a group the order stays as collected.
_SLOW_FIRST = ("tests/e2e/", "tests/faults/", "tests/integration/", "tests/unit/")


def pytest_collection_modifyitems(items):
    def group(item) -> int:
        path = item.nodeid
        return next((n for n, prefix in enumerate(_SLOW_FIRST) if path.startswith(prefix)),
                    len(_SLOW_FIRST))

    items.sort(key=group)
