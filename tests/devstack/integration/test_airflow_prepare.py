"""`devstack up` leaves Airflow's metadata database ready, and is quick when it already is."""

from __future__ import annotations

import psycopg

from devstack import airflow_local


def test_prepared_once_then_checked_and_repaired(airflow_ready):
    stack = airflow_ready
    assert airflow_local.is_prepared(stack)
    assert airflow_local.ensure_prepared(stack) is False, "nothing to do on a ready stack"

    # A pool removed by hand (or a database made anew) is noticed and put back.
    with psycopg.connect(stack.dsn("airflow"), autocommit=True) as conn:
        conn.execute("DELETE FROM slot_pool WHERE pool = 'credly_api'")
    assert not airflow_local.is_prepared(stack)
    assert airflow_local.ensure_prepared(stack) is True
    assert airflow_local.is_prepared(stack)
