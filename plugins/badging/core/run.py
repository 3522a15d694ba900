"""Which day a DAG run processes (docs/time.md), its extract window, and who does the work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from badging.core import clock
from badging.core.constants import AGENCY_TZ, RunType, TaskId


def processing_day(date_param: str | None, interval_start: datetime | None,
                   run_after: datetime) -> date:
    """The Chicago day a run processes.

    The `date` param wins (an operator's manual run); then the run's data interval (a
    scheduled run or a backfill); a manual run with neither takes the last full day
    before it was triggered.

    Raises:
        ValueError: `date_param` is not YYYY-MM-DD.
    """
    if date_param:
        try:
            return date.fromisoformat(date_param.strip())
        except ValueError:
            raise ValueError(f"param 'date' must be YYYY-MM-DD, got {date_param!r}") from None
    if interval_start is not None:
        return interval_start.astimezone(AGENCY_TZ).date()
    return run_after.astimezone(AGENCY_TZ).date() - timedelta(days=1)


def loaded_days(day: date, date_param: str | None, date_to_param: str | None) -> tuple[date, date]:
    """The first and last day a run processes: its day alone, or a history load's range from
    the `date` param to `date_to` (docs/history-load.md).

    Raises:
        ValueError: `date_to` is not YYYY-MM-DD, is before `date`, or has no `date`.
    """
    if not date_to_param:
        return day, day
    if not date_param:
        raise ValueError("param 'date_to' needs 'date', the first day of the range")
    try:
        last = date.fromisoformat(date_to_param.strip())
    except ValueError:
        raise ValueError(f"param 'date_to' must be YYYY-MM-DD, got {date_to_param!r}") from None
    if last < day:
        raise ValueError(f"param 'date_to' ({last}) is before 'date' ({day})")
    return day, last


def extract_window(day: date, lookback_days: int,
                   first_day: date | None = None) -> tuple[datetime, datetime]:
    """[start, end) of the change times a run extracts: its day plus the lookback days before.

    Raises:
        ValueError: a negative lookback.
    """
    if lookback_days < 0:
        raise ValueError(f"param 'lookback_days' must be >= 0, got {lookback_days}")
    start = datetime.combine((first_day or day) - timedelta(days=lookback_days), time(),
                             AGENCY_TZ)
    end = datetime.combine(day + timedelta(days=1), time(), AGENCY_TZ)
    return start, end


@dataclass(frozen=True)
class RunInfo:
    """What every task needs to know about the run and itself; no student data."""

    run_id: str
    day: date
    window_start: datetime
    window_end: datetime
    dry_run: bool
    task_id: str = ""
    map_index: int = -1
    try_number: int = 1
    # Airflow counts how often the run was cleared ("re-run"); the run id stays the same.
    clear_number: int = 0
    # A history load's first day (`day` is its last); None for a run of one day.
    first_day: date | None = None
    run_type: RunType = RunType.MANUAL
    # The latest complete day in Chicago when the task started (by the clock).
    latest_day: date | None = None
    # The run's param: mail each technology center its entries to fix.
    send_site_lists: bool = True

    @property
    def is_range(self) -> bool:
        """A history load of several days (docs/history-load.md)."""
        return self.first_day is not None and self.first_day < self.day

    @property
    def is_nightly(self) -> bool:
        """A night of the badge check (docs/lifecycle.md, "Grace is nightly time"): a
        scheduled run, or a manual run of the latest complete day; never a dry run, a
        backfill, a history load or a manual run of a past day. Only such runs advance a
        finding's streak and change badges in Credly after issuance."""
        if self.dry_run or self.is_range:
            return False
        if self.run_type == RunType.SCHEDULED:
            return True
        return self.run_type == RunType.MANUAL and self.day == self.latest_day

    @property
    def is_backfill(self) -> bool:
        return self.run_type == RunType.BACKFILL

    @property
    def idle_tasks(self) -> dict[TaskId, str]:
        """The tasks this run gives nothing to do, and why: the run's one policy of skipped
        work (docs/performance.md). decide_eligibility, a branch in the DAG, follows the
        others, so the idle ones start no process and show as skipped in the graph."""
        idle: dict[TaskId, str] = {}
        if self.is_backfill:
            idle[TaskId.CHECK_BADGES] = ("a backfill changes no badge after issuance: the next "
                                         "nightly run checks every badge")
        if self.dry_run or self.is_backfill:
            idle[TaskId.SYNC_CREDLY] = ("a dry run changes no ledger; a backfill would read the "
                                        "same badges once per day")
        if self.dry_run or self.is_backfill or self.is_range or not self.send_site_lists:
            idle[TaskId.NOTIFY_SITES] = ("no morning lists from a dry run, a backfill, a "
                                         "history load, or with send_site_lists off")
        return idle

    def batch_waves(self, pool_slots: int) -> int:
        """How many slots of the credly_api pool a day's issue batches are cut to fill: a
        backfill's days run side by side and fill the pool between them, so each is cut in
        fewer, fuller batches (fewer task processes); any other run spreads over the pool."""
        return 1 if self.is_backfill else pool_slots

    @property
    def even_batches(self) -> bool:
        """Whether a day's batches are cut to one size: a backfill's run beside other days'
        batches, and its day ends with its longest (600 badges as 500 and 100 end with the
        500)."""
        return self.is_backfill

    @property
    def issuing_run(self) -> str:
        """What the ledger records as the run that issued a badge.

        A cleared run keeps its run id, so the clear is part of it: re-running a day then
        finds the badges of its earlier attempt already issued, and says so.
        """
        return self.run_id if not self.clear_number else f"{self.run_id}#clear{self.clear_number}"

    @property
    def holder(self) -> str:
        """Identifies one try of one mapped task (claim rules: docs/exactly-once.md): a stale
        try still running can never finish or renew a newer try's claim."""
        return f"{self.run_id}|{self.task_id}|{self.map_index}|{self.try_number}"

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> RunInfo:
        """Build it from an Airflow task context."""
        params = context["params"]
        dag_run = context["dag_run"]
        first, day = loaded_days(
            processing_day(params.get("date"), context.get("data_interval_start"),
                           dag_run.run_after),
            params.get("date"), params.get("date_to"))
        start, end = extract_window(day, int(params["lookback_days"]), first)
        ti = context["ti"]
        map_index = ti.map_index if ti.map_index is not None else -1
        return cls(
            run_id=context["run_id"], day=day, window_start=start, window_end=end,
            dry_run=bool(params["dry_run"]), task_id=ti.task_id, map_index=map_index,
            try_number=ti.try_number or 1, clear_number=getattr(dag_run, "clear_number", 0) or 0,
            first_day=first if first < day else None,
            run_type=RunType(run_type(context)), latest_day=latest_complete_day(),
            send_site_lists=bool(params.get("send_site_lists", True)),
        )


def latest_complete_day() -> date:
    """The last full Chicago day at the clock's now (what a nightly run processes)."""
    return clock.now().astimezone(AGENCY_TZ).date() - timedelta(days=1)


def run_type(context: dict[str, Any]) -> str:
    """The run's type as Airflow names it: "scheduled", "manual", "backfill", ...

    The Task SDK hands tasks an enum whose str() is "DagRunType.BACKFILL", not its value:
    compare this, never str(dag_run.run_type).
    """
    value = context["dag_run"].run_type
    return str(getattr(value, "value", value))
