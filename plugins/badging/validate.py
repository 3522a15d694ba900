"""Validate: run the Great Expectations suite over the run's staged rows and quarantine failures."""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from badging import audit, db, sql
from badging.constants import Event
from badging.errors import DataQualityError
from badging.run import RunInfo

log = logging.getLogger(__name__)

ROW_SUITE = "realtime_rows"
# Anything tested before this is a typing error, not a certification.
EARLIEST_TEST_DATE = date(2000, 1, 1)


@dataclass(frozen=True)
class ValidationOutcome:
    """Counts only: this goes to XCom."""

    checked: int
    quarantined: int
    failed_share: float
    failed_checks: dict[str, int]

    def as_xcom(self) -> dict[str, Any]:
        return {"checked": self.checked, "quarantined": self.quarantined,
                "failed_share": round(self.failed_share, 4), "failed_checks": self.failed_checks}


def load_suite(name: str) -> dict[str, Any]:
    """A suite's JSON from include/expectations (read at run time, never at parse time)."""
    return json.loads((sql.include_dir() / "expectations" / f"{name}.json").read_text())


def failing_rows(frame, suite_json: dict[str, Any], parameters: dict[str, Any],
                 validation_name: str) -> dict[int, list[str]]:
    """Run a row-level suite over `frame`; map each failing row id to the checks it broke.

    Only ids and check names leave this function: GX's results also hold the offending
    values (emails, names), which must not reach logs or XCom.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    id_column = suite_json["meta"]["row_id_column"]
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (context.data_sources.add_pandas("staged")
             .add_dataframe_asset(suite_json["name"])
             .add_batch_definition_whole_dataframe("run"))
    suite = context.suites.add(gx.ExpectationSuite(**suite_json))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=validation_name, data=batch, suite=suite))
    result = validation.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [id_column]},
    )
    broken: dict[int, list[str]] = defaultdict(list)
    for expectation_result in result.results:
        if expectation_result.success:
            continue
        config = expectation_result.expectation_config
        check = (config.meta or {}).get("check") or config.type
        if expectation_result.exception_info.get("raised_exception"):
            # An expectation that could not run is a broken suite, not a bad row.
            raise DataQualityError(f"expectation {check!r} could not be evaluated")
        for index in expectation_result.result.get("unexpected_index_list") or []:
            row_id = int(index[id_column])
            if check not in broken[row_id]:
                broken[row_id].append(check)
    return dict(broken)


def validate(run: RunInfo, *, max_failed_share: float, validation_prefix: str,
             badging: str = db.BADGING_CONN_ID) -> ValidationOutcome:
    """Quarantine the run's staged rows that break the suite; audit each one.

    Raises:
        DataQualityError: more than `max_failed_share` of the rows failed — a broken feed,
            not bad entries. Everything is recorded first.
    """
    import pandas as pd

    params = {"run_id": run.run_id}
    with db.connect(badging) as conn:
        cursor = db.execute(conn, "validate/staged_rows.sql", params)
        columns = [c.name for c in cursor.description]
        frame = pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
        broken: dict[int, list[str]] = {}
        if len(frame):
            for column in ("test_date", "entered_date"):
                frame[column] = pd.to_datetime(frame[column])
            broken = failing_rows(
                frame, load_suite(ROW_SUITE),
                {"earliest_test_date": pd.Timestamp(EARLIEST_TEST_DATE),
                 "processing_day": pd.Timestamp(run.day)},
                f"{validation_prefix}.{ROW_SUITE}",
            )
        db.execute(conn, "validate/clear_quarantine.sql", params)
        with conn.cursor() as cur:
            cur.executemany(sql.load("validate/quarantine_row.sql"), [
                {"run_id": run.run_id, "certification_id": row_id, "expectations": checks}
                for row_id, checks in broken.items()
            ])
        db.execute(conn, "validate/mark_quarantined.sql", params)
        audit.record_decisions(conn, run, [Event.QUARANTINED])
    counts: dict[str, int] = defaultdict(int)
    for checks in broken.values():
        for check in checks:
            counts[check] += 1
    outcome = ValidationOutcome(checked=len(frame), quarantined=len(broken),
                                failed_share=len(broken) / len(frame) if len(frame) else 0.0,
                                failed_checks=dict(sorted(counts.items())))
    log.info("validated %d rows: %d quarantined (%.1f%%); by check: %s", outcome.checked,
             outcome.quarantined, 100 * outcome.failed_share, outcome.failed_checks or "none")
    if outcome.failed_share > max_failed_share:
        raise DataQualityError(
            f"{outcome.quarantined} of {outcome.checked} rows ({outcome.failed_share:.0%}) failed "
            f"validation, above the {max_failed_share:.0%} threshold: the feed looks broken"
        )
    return outcome
