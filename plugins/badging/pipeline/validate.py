"""Validate: run the GX suites over the run's staged rows, quarantine failures, keep results."""

from __future__ import annotations

import json
import logging
import math
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from psycopg.types.json import Jsonb

from badging.core import audit, db, sql
from badging.core.constants import AGENCY_TIMEZONE, Event
from badging.core.errors import DataQualityError
from badging.core.run import RunInfo

log = logging.getLogger(__name__)

# Critical row checks: a failing row is quarantined.
ROW_SUITE = "realtime_rows"
# Warning row checks: a failing row is reported (correction report, Data Docs), never held back.
WARNING_SUITE = "realtime_rows_warnings"
# Critical table checks: a failure fails the run once everything is recorded.
TABLE_SUITE = "realtime_table"
SUITES = (ROW_SUITE, WARNING_SUITE, TABLE_SUITE)

# Anything tested before this is a typing error, not a certification.
EARLIEST_TEST_DATE = date(2000, 1, 1)
# A test entered more than this many days after it was taken is reported as late.
MAX_ENTRY_LAG_DAYS = 365

# The collapsed-day warning: below 1/BAND_FACTOR times the trailing average of the latest
# real run of each of the last BAND_DAYS days (once BAND_MIN_RUNS such days exist) the
# warning suite reports it, never more: weekends, holidays and summer give legitimately tiny
# or empty days. A day too big is not judged here but by the volume gate (badging/gates/volume.py),
# which asks an operator instead of failing the run.
BAND_DAYS = 28
BAND_MIN_RUNS = 7
BAND_FACTOR = 10.0

# The frame the suites see: these columns get these dtypes, the rest are plain objects.
_INT_COLUMNS = ("certification_id", "student_id", "entry_lag_days")
_DATE_COLUMNS = ("test_date", "entered_date", "approved_from", "approved_to")

# What a scrubbed result keeps: counts and percentages, never the offending values.
_SAFE_RESULT_KEYS = frozenset({
    "element_count", "missing_count", "missing_percent", "unexpected_count",
    "unexpected_percent", "unexpected_percent_total", "unexpected_percent_nonmissing",
})
# Expectations whose observed_value describes the table (a count, column names, a dtype).
_SAFE_OBSERVED = frozenset({
    "expect_table_row_count_to_be_between", "expect_table_columns_to_match_set",
    "expect_column_values_to_be_in_type_list",
})
_SAFE_META_KEYS = frozenset({
    "great_expectations_version", "run_id", "validation_time", "validation_id",
    "active_batch_definition", "batch_markers",
})


@dataclass(frozen=True)
class RowCountBand:
    """The collapsed-day warning's lower bound of one run, from the days before it."""

    runs: int
    average: float

    @property
    def active(self) -> bool:
        return self.runs >= BAND_MIN_RUNS and self.average > 0

    @property
    def minimum(self) -> int:
        return math.floor(self.average / BAND_FACTOR) if self.active else 0

    def describe(self) -> str:
        if not self.active:
            return f"no band yet ({self.runs} earlier days, {BAND_MIN_RUNS} needed)"
        return (f"at least {self.minimum} rows expected (1/{BAND_FACTOR:g} of the "
                f"{self.runs}-day average of {self.average:.0f})")


@dataclass
class SuiteOutcome:
    """One suite's verdict: failing row ids with their checks, failed table checks, the
    scrubbed result for Data Docs. Holds ids and check names only."""

    suite: str
    severity: str
    success: bool
    by_row: dict[int, list[str]] = field(default_factory=dict)
    table_failures: list[str] = field(default_factory=list)
    scrubbed: dict[str, Any] = field(default_factory=dict)

    def check_counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter(c for checks in self.by_row.values() for c in checks)
        counts.update(self.table_failures)
        return dict(sorted(counts.items()))


@dataclass(frozen=True)
class ValidationOutcome:
    """Counts only: this goes to XCom."""

    checked: int
    quarantined: int
    failed_share: float
    failed_checks: dict[str, int]
    warned: int = 0
    warning_checks: dict[str, int] = field(default_factory=dict)
    table_failures: tuple[str, ...] = ()

    def as_xcom(self) -> dict[str, Any]:
        return {"checked": self.checked, "quarantined": self.quarantined,
                "failed_share": round(self.failed_share, 4), "failed_checks": self.failed_checks,
                "warned": self.warned, "warning_checks": self.warning_checks,
                "table_failures": list(self.table_failures)}


def ephemeral_gx_context():
    """A GX context that keeps nothing on disk and sends no analytics."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    # Importing GX logs one INFO line per documented function: noise in every task log.
    logging.getLogger("great_expectations._docs_decorators").setLevel(logging.WARNING)
    import great_expectations as gx

    return gx.get_context(mode="ephemeral")


def load_suite(name: str) -> dict[str, Any]:
    """A suite's JSON from include/expectations (read at run time, never at parse time)."""
    return json.loads((sql.include_dir() / "expectations" / f"{name}.json").read_text())


def staged_frame(records: list[tuple], columns: list[str]):
    """The DataFrame the suites check, with the dtypes the table suite expects.

    Args:
        records: rows as pipeline/validate/staged_rows.sql returns them.
        columns: their column names.

    Returns:
        A pandas DataFrame: nullable Int64 ids and day counts, datetime64 dates, object text.
    """
    import pandas as pd

    frame = pd.DataFrame.from_records(records, columns=columns)
    for column in frame.columns:
        if column in _INT_COLUMNS:
            frame[column] = frame[column].astype("Int64")
        elif column in _DATE_COLUMNS:
            frame[column] = pd.to_datetime(frame[column])
        else:
            # pandas 3 would make these `str`, whose NaN-for-missing GX's type check
            # cannot name; plain objects keep None as None.
            frame[column] = frame[column].astype(object)
    return frame


def suite_parameters(day: date, band: RowCountBand) -> dict[str, Any]:
    """The $PARAMETER values the suites refer to, for a run processing `day`."""
    import pandas as pd

    return {"earliest_test_date": pd.Timestamp(EARLIEST_TEST_DATE),
            "processing_day": pd.Timestamp(day),
            "max_entry_lag_days": MAX_ENTRY_LAG_DAYS,
            "row_count_min": band.minimum}


def scrub(result: dict[str, Any]) -> dict[str, Any]:
    """A GX suite result as JSON, keeping counts and check names and dropping every value.

    GX results list the offending values (emails, names) and their row indexes; Data Docs
    renders whatever the result holds, so only an allow-list of keys survives.
    """
    results = []
    for item in result.get("results", []):
        config = item.get("expectation_config") or {}
        kept = {k: v for k, v in (item.get("result") or {}).items() if k in _SAFE_RESULT_KEYS}
        if config.get("type") in _SAFE_OBSERVED and "observed_value" in item.get("result", {}):
            kept["observed_value"] = item["result"]["observed_value"]
        raised = bool((item.get("exception_info") or {}).get("raised_exception"))
        results.append({
            "success": item.get("success"),
            "expectation_config": config,
            "result": kept,
            "meta": {},
            "exception_info": {"raised_exception": raised, "exception_message": None,
                               "exception_traceback": None},
        })
    meta = {k: v for k, v in (result.get("meta") or {}).items() if k in _SAFE_META_KEYS}
    scrubbed = {"success": result.get("success"), "results": results,
                "suite_name": result.get("suite_name"),
                "suite_parameters": result.get("suite_parameters") or {},
                "statistics": result.get("statistics") or {}, "meta": meta,
                "id": result.get("id")}
    # Round-trip through JSON so numpy and pandas scalars cannot reach the database.
    return json.loads(json.dumps(scrubbed, default=str))


def run_suites(frame, suites: dict[str, dict[str, Any]], parameters: dict[str, Any], *,
               validation_prefix: str, run_name: str,
               run_time: datetime | None = None) -> dict[str, SuiteOutcome]:
    """Run each suite over `frame` in one ephemeral GX context.

    Args:
        frame: the batch (see staged_frame).
        suites: suite JSON by name (see load_suite).
        parameters: the $PARAMETER values (see suite_parameters).
        validation_prefix: validations are named `{prefix}.{suite}` (the DAG id).
        run_name: GX's run name, shown in Data Docs.
        run_time: GX's run time; now when None.

    Returns:
        Each suite's outcome by name. Only ids and check names leave this function.

    Raises:
        DataQualityError: an expectation could not be evaluated (a broken suite).
    """
    context = ephemeral_gx_context()
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (context.data_sources.add_pandas("staged")
             .add_dataframe_asset("realtime_certifications")
             .add_batch_definition_whole_dataframe("run"))
    run_id = RunIdentifier(run_name=run_name, run_time=run_time or datetime.now(UTC))
    outcomes = {}
    for name, suite_json in suites.items():
        id_column = suite_json["meta"]["row_id_column"]
        suite = context.suites.add(gx.ExpectationSuite(**suite_json))
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{validation_prefix}.{name}", data=batch, suite=suite))
        result = validation.run(
            batch_parameters={"dataframe": frame}, expectation_parameters=parameters,
            run_id=run_id,
            result_format={"result_format": "COMPLETE",
                           "unexpected_index_column_names": [id_column]},
        )
        warning_only = all(e.get("severity") == "warning" for e in suite_json["expectations"])
        outcomes[name] = _outcome(name, result, id_column,
                                  "warning" if warning_only else "critical",
                                  row_level=suite_json["meta"].get("row_level", True))
    return outcomes


def _outcome(name: str, result, id_column: str, severity: str, *,
             row_level: bool) -> SuiteOutcome:
    outcome = SuiteOutcome(suite=name, severity=severity, success=bool(result.success),
                           scrubbed=scrub(result.to_json_dict()))
    broken: dict[int, list[str]] = defaultdict(list)
    for expectation_result in result.results:
        if expectation_result.success:
            continue
        config = expectation_result.expectation_config
        check = (config.meta or {}).get("check") or config.type
        raised = expectation_result.exception_info.get("raised_exception")
        if raised and row_level:
            # A row check that could not run is a broken suite, not a bad row.
            raise DataQualityError(f"expectation {check!r} of {name} could not be evaluated")
        indexes = expectation_result.result.get("unexpected_index_list")
        # A table suite's failure is the batch's, even when GX names rows (type checks do)
        # or cannot evaluate a check (a column is missing).
        if indexes is None or not row_level:
            if check not in outcome.table_failures:
                outcome.table_failures.append(check)
            continue
        for index in indexes:
            row_id = int(index[id_column])
            if check not in broken[row_id]:
                broken[row_id].append(check)
    outcome.by_row = dict(broken)
    return outcome


def table_reason(outcome: SuiteOutcome) -> str | None:
    """The one-line reason a critical table suite failed, or None when it passed."""
    if not outcome.table_failures:
        return None
    parts = []
    for check in outcome.table_failures:
        if check == "types_as_expected":
            parts.append("staged column types differ from the table suite")
        else:
            parts.append(f"table check {check} failed")
    return "; ".join(parts)


def validate(run: RunInfo, *, max_failed_share: float, validation_prefix: str,
             badging: str = db.BADGING_CONN_ID) -> ValidationOutcome:
    """Quarantine the run's staged rows that break the row suite; record every suite's result.

    Warning-level failures are recorded per row (badging.dq_row_warning) for the correction
    report; each suite's scrubbed result goes to badging.dq_result, and its Data Docs page is
    written (badging/reports/data_docs.py) before any error is raised.

    Raises:
        DataQualityError: more than `max_failed_share` of the rows failed, or a table-level
            check failed (a broken feed, not bad entries). Everything is recorded first.
    """
    params = {"run_id": run.run_id}
    with db.connect(badging) as conn:
        cursor = db.execute(conn, "pipeline/validate/staged_rows.sql",
                            params | {"agency_timezone": AGENCY_TIMEZONE})
        frame = staged_frame(cursor.fetchall(), [c.name for c in cursor.description])
        runs, average = db.execute(conn, "pipeline/validate/row_count_history.sql",
                                   {"day": run.day, "days": BAND_DAYS}).fetchone()
        band = RowCountBand(runs=runs, average=average)
        outcomes = run_suites(frame, {name: load_suite(name) for name in SUITES},
                              suite_parameters(run.day, band),
                              validation_prefix=validation_prefix,
                              run_name=f"{run.day.isoformat()}__{run.run_id}")
        rows, warnings, table = (outcomes[ROW_SUITE], outcomes[WARNING_SUITE],
                                 outcomes[TABLE_SUITE])
        checked = len(frame)
        share = len(rows.by_row) / checked if checked else 0.0
        reasons = {TABLE_SUITE: table_reason(table), ROW_SUITE: None}
        if share > max_failed_share:
            reasons[ROW_SUITE] = (
                f"{len(rows.by_row)} of {checked} rows ({share:.0%}) failed validation, above "
                f"the {max_failed_share:.0%} threshold: the feed looks broken")
        _record(conn, run, outcomes, reasons)
        conn.commit()
        _write_data_docs(conn, run)
    outcome = ValidationOutcome(
        checked=checked, quarantined=len(rows.by_row), failed_share=share,
        failed_checks=rows.check_counts(), warned=len(warnings.by_row),
        warning_checks=warnings.check_counts(), table_failures=tuple(table.table_failures))
    log.info("validated %d rows: %d quarantined (%.1f%%); by check: %s", outcome.checked,
             outcome.quarantined, 100 * outcome.failed_share, outcome.failed_checks or "none")
    log.info("warnings (not quarantined): %d rows; by check: %s; row count %s",
             outcome.warned, outcome.warning_checks or "none", band.describe())
    failed = "; ".join(r for r in reasons.values() if r)
    if failed:
        raise DataQualityError(failed)
    return outcome


def _write_data_docs(conn, run: RunInfo) -> None:
    """The run's Data Docs pages, while GX is loaded (report then needs no GX).

    Never fails validation: a folder that cannot be written is the report task's to report
    (it writes the missing pages, or ends red with ReportNotWritten).
    """
    from badging.reports import data_docs
    from badging.reports.location import ReportLocation

    try:
        data_docs.publish(conn, ReportLocation.configured(), run.run_id)
    except Exception as error:  # whatever it is, the report task shows it
        conn.rollback()
        log.warning("Data Docs not written now (%s): the report task writes them",
                    type(error).__name__)


def _record(conn, run: RunInfo, outcomes: dict[str, SuiteOutcome],
            reasons: dict[str, str | None]) -> None:
    """Write quarantine, row warnings and scrubbed results; audit the quarantined rows."""
    params = {"run_id": run.run_id}
    broken = outcomes[ROW_SUITE].by_row
    db.execute(conn, "pipeline/validate/clear_quarantine.sql", params)
    db.execute(conn, "pipeline/validate/clear_warnings.sql", params)
    db.execute(conn, "pipeline/validate/clear_results.sql", params)
    with conn.cursor() as cur:
        cur.executemany(sql.load("pipeline/validate/quarantine_row.sql"), [
            {"run_id": run.run_id, "certification_id": row_id, "expectations": checks}
            for row_id, checks in broken.items()
        ])
        cur.executemany(sql.load("pipeline/validate/warning_row.sql"), [
            {"run_id": run.run_id, "certification_id": row_id, "checks": checks}
            for row_id, checks in outcomes[WARNING_SUITE].by_row.items()
        ])
        cur.executemany(sql.load("pipeline/validate/store_result.sql"), [
            {"run_id": run.run_id, "suite": name, "severity": o.severity,
             "success": o.success, "result": Jsonb(o.scrubbed), "reason": reasons.get(name)}
            for name, o in outcomes.items()
        ])
    db.execute(conn, "pipeline/validate/mark_quarantined.sql", params)
    audit.record_decisions(conn, run, [Event.QUARANTINED])
