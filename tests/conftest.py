"""What every lane shares: one real Postgres stack and one Credly sandbox per session.

Session fixtures are registered here, once: a conftest that imported them again would
start a second stack. Fixtures that only some tests need are imported by the conftest of
their folder (tests/integration, tests/e2e, tests/faults), so `make test-unit` never
imports the end-to-end helpers. Nothing here starts until a test asks for it.
"""

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.stack",
]
