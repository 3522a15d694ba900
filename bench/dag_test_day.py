"""Time one `dag.test()` of a day in a fresh Airflow process (the fixed-overhead measure).

Prints JSON on its last line: the seconds spent inside `dag.test()` (the run: the task
runner, every task, Airflow's bookkeeping) and the run's final state. The parent times the
whole process too, which adds interpreter start, Airflow's import and its exit.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

DAG_FILE = Path(__file__).resolve().parents[1] / "dags" / "credly_badge_issuance.py"


def main() -> None:
    day = date.fromisoformat(sys.argv[1])
    params = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    spec = importlib.util.spec_from_file_location("credly_badge_issuance", DAG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # The module does not keep the DAG it built; its decorated function builds the same one.
    dag = module.credly_badge_issuance()
    # What `airflow dags test DAG DAY` does: a UTC-midnight logical date, the day as a param.
    started = time.perf_counter()
    run = dag.test(logical_date=datetime(day.year, day.month, day.day, tzinfo=UTC),
                   run_conf={"date": day.isoformat(), **params})
    seconds = time.perf_counter() - started
    print(json.dumps({"dag_test_seconds": seconds, "state": str(run.state)}))


if __name__ == "__main__":
    main()
