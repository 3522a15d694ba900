"""`make bench`: issuance efficiency, stage scaling, fixed overhead, sandbox ceiling; one table."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from datetime import date
from typing import Any

from bench import credly_sync, history_load, night_cost, outcomes, scheduler
from bench.harness import Bench, bench_stack, load_1m, median, note
from bench.issuance import (
    ISSUE_DAY,
    POOL_BATCH,
    POOL_SLOTS,
    efficiency,
    issue_dag,
    issue_direct,
)
from bench.results import RESULTS, scheduler_day_vs_ceiling, table
from bench.stages import measure_stages
from devstack.seed import SeedParams
from devstack.stack import REPO

# Sections that need the seeded history, and those that need Airflow's metadata database.
SEEDED = {"stages", "issue", "pool", "dag", "empty", "scheduler", "backfill"}
AIRFLOW = {"dag", "empty", "scheduler", "backfill", "outcomes"}
# History the stage sizes are cut from: every window ends at the seed's last day.
SEED_FROM, SEED_TO = date(2025, 3, 1), date(2025, 12, 31)
# A day the seed never touches (the issuance day, ISSUE_DAY, is an ordinary weekday).
EMPTY_DAY = date(2024, 1, 2)
# Ordinary days the backfill measure processes (inside the seed, before ISSUE_DAY's window).
BACKFILL_FROM, BACKFILL_DAYS = date(2025, 10, 1), 20


# --- what operators wait for ------------------------------------------------------------

def measure_scheduler(bench: Bench, only: set[str], results: dict[str, Any], lookback: int,
                      latency_ms: float, concurrency: int, reps: int) -> None:
    """The day and the backfill through `make airflow`'s scheduler (bench/scheduler.py)."""
    note("starting make airflow's components (LocalExecutor)")
    with scheduler.scheduler(bench, night_of=ISSUE_DAY) as api:
        if "scheduler" in only:
            # The median of `reps` days: one day's plan once took 16 s instead of 2 here.
            days = []
            for rep in range(reps):
                days.append(scheduler.measure_day(bench, api, ISSUE_DAY, lookback=lookback,
                                                  latency_ms=latency_ms,
                                                  concurrency=concurrency))
                note(f"  scheduler day {rep + 1} of {reps}: {days[-1]}")
            day = sorted(days, key=lambda d: d["seconds"])[len(days) // 2]
            results["scheduler_day"] = day | {"seconds_each": [d["seconds"] for d in days]}
            results["scheduler_day_seconds"] = day["seconds"]
            results["scheduler_day_efficiency"] = day["efficiency"]
        if "backfill" in only:
            backfill = scheduler.measure_backfill(bench, api, BACKFILL_FROM, BACKFILL_DAYS,
                                                  latency_ms=latency_ms)
            note(f"  backfill: {backfill}")
            results["backfill"] = backfill
            results["backfill_runs_per_min"] = backfill["runs_per_min"]


def measure_history(results: dict[str, Any], args: argparse.Namespace) -> None:
    """The history load on a stack of its own (bench/history_load.py)."""
    with bench_stack(keep=args.keep) as bench:
        note(f"history: seeding {history_load.HISTORY_SEED.rows} rows over four years; "
             "migrating Airflow")
        migrating = threading.Thread(target=bench.prepare_airflow)
        migrating.start()
        bench.seed(history_load.HISTORY_SEED)
        migrating.join()
        note("starting make airflow's components (LocalExecutor)")
        with scheduler.scheduler(bench) as api:
            found = history_load.measure_history(
                bench, api, held=args.history_held, latency_ms=args.latency_ms,
                concurrency=args.concurrency, batch_size=args.history_batch_size)
    note(f"  history load: {found}")
    results["history"] = found
    results["history_load_seconds"] = found["seconds"]


def measure_night(results: dict[str, Any], args: argparse.Namespace) -> None:
    """A night at any age (bench/night_cost.py), on a stack of its own: it replaces CTIMS."""
    with bench_stack(keep=args.keep) as bench:
        bench.prepare_airflow()
        found = night_cost.measure(bench, bench.earner_id_secret)
    note(f"  night cost: {found}")
    results["night"] = found
    for key in ("night_cost_ratio_1m_vs_100k", "night_cost_ratio_from_queued",
                "check_seconds_ordinary_day"):
        results[key] = found[key]


# --- 3. and 4. ---------------------------------------------------------------------------

def measure_empty_day(bench: Bench, reps: int) -> list[dict[str, float]]:
    """dag.test() of a day without rows: the call itself, and its whole fresh process."""
    bench.reset_runs()
    runs = []
    for rep in range(reps):
        note(f"empty day, run {rep + 1} of {reps}")
        done = bench.dag_test(EMPTY_DAY, f"dag-empty-{rep}")
        runs.append({k: round(v, 2) for k, v in done.items()})
    return runs


def measure_sandbox(reps: int) -> list[float]:
    rates = []
    for rep in range(reps):
        note(f"sandbox ceiling, run {rep + 1} of {reps}")
        done = subprocess.run([sys.executable, "-m", "bench.sandbox_throughput", "--json",
                               "-n", "2000", "-t", "8"], capture_output=True, text=True,
                              check=True, cwd=REPO)
        rates.append(json.loads(done.stdout)["sandbox_rps"])
    return rates


# --- main --------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,200000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--badges", type=int, default=5000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=500, help="the DAG's default")
    parser.add_argument("--sync-badges", type=int, default=150_000,
                        help="live badges the Credly sync reads")
    parser.add_argument("--sync-final-share", type=float, default=0.01,
                        help="share of badges their earners reject before the daily sync")
    parser.add_argument("--sync-deleted", type=int, default=20,
                        help="badges deleted in Credly before the daily sync")
    parser.add_argument("--history-held", type=int, default=100_000,
                        help="badges of the history already in Credly before its load")
    parser.add_argument("--history-batch-size", type=int, default=5000,
                        help="the history load's batch_size param (docs/history-load.md)")
    parser.add_argument("--outcome-badges", type=int, default=1_000_000,
                        help="ledger rows the outcomes section seeds (docs/outcomes.md)")
    parser.add_argument("--only",
                        default="stages,issue,pool,dag,empty,sandbox,sync,scheduler,backfill,"
                                "outcomes,history,night",
                        help="comma-separated sections to run")
    parser.add_argument("--budget-s", type=float, default=570.0,
                        help="stop adding stage rounds past this many seconds")
    parser.add_argument("--stage-timeout-s", type=float, default=120.0,
                        help="stop a stage that runs longer (recorded as a timeout)")
    parser.add_argument("--keep", action="store_true", help="keep the stack's temp dir")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    only = set(args.only.split(","))
    params = {"sizes": sizes, "reps": args.reps, "badges": args.badges,
              "latency_ms": args.latency_ms, "concurrency": args.concurrency,
              "batch_size": args.batch_size, "seed_rows": max(sizes), "seed_from": str(SEED_FROM),
              "seed_to": str(SEED_TO), "stage_timeout_s": args.stage_timeout_s,
              "issue_day": str(ISSUE_DAY), "empty_day": str(EMPTY_DAY)}
    results: dict[str, Any] = {"parameters": params, "load_1m": {"start": load_1m()},
                               "issuance": {}}
    started = time.perf_counter()
    with bench_stack(keep=args.keep) as bench:
        note(f"stack up (postgres :{bench.stack.pg_port}, sandbox :{bench.stack.sandbox_port})"
             + (f"; seeding {max(sizes)} rows" if only & SEEDED
                else "") + ("; migrating Airflow" if only & AIRFLOW else ""))
        # Airflow's metadata migration and the seed are independent: overlap them.
        migrating = threading.Thread(target=bench.prepare_airflow)
        if only & AIRFLOW:
            migrating.start()
        if only & SEEDED:
            bench.seed(SeedParams(SEED_FROM, SEED_TO, rows=max(sizes) + 2000,
                                  dirty_rate=0.05, seed=2026))
        if only & AIRFLOW:
            migrating.join()
        if only & {"issue", "pool", "dag", "scheduler"}:
            lookback = bench.lookback_for_badges(ISSUE_DAY, args.badges + 50)
            params["issue_lookback_days"] = lookback
            shape = (args.latency_ms, args.concurrency)
            if "issue" in only:
                direct = issue_direct(bench, args.badges, *shape, args.batch_size, lookback)
                efficiency(direct, *shape)
                note(f"  direct: {direct}")
                results["issuance"]["direct"] = direct
            if "pool" in only:
                # The pool's slots as processes, no Airflow: what this machine allows the
                # scheduler's day (batches of POOL_BATCH: the same number for each process).
                pooled = issue_direct(bench, args.badges, *shape, POOL_BATCH, lookback,
                                      processes=POOL_SLOTS)
                efficiency(pooled, args.latency_ms, args.concurrency * POOL_SLOTS)
                note(f"  pool without Airflow: {pooled}")
                results["issuance"]["pool"] = pooled
                results["pool_issue_efficiency"] = pooled["efficiency"]
            if "dag" in only:
                dag = issue_dag(bench, *shape, args.batch_size, lookback)
                efficiency(dag, *shape)
                note(f"  dags test: {dag}")
                results["issuance"]["dag"] = dag
        if only & {"issue", "dag"}:
            first = results["issuance"].get("direct") or results["issuance"]["dag"]
            results["issuance_efficiency"] = first["efficiency"]
        if only & {"scheduler", "backfill"}:
            measure_scheduler(bench, only, results, lookback if "scheduler" in only else 0,
                              args.latency_ms, args.concurrency, args.reps)
        if "empty" in only:
            runs = measure_empty_day(bench, args.reps)
            results["empty_day_runs"] = runs
            results["empty_day_seconds"] = median([r["dag_test_seconds"] for r in runs])
            results["empty_day_process_seconds"] = median([r["process_seconds"] for r in runs])
        if "sandbox" in only:
            rates = measure_sandbox(args.reps)
            results["sandbox_runs"] = rates
            results["sandbox_rps"] = median(rates)
        if "stages" in only:
            stages = measure_stages(bench, sizes, args.reps, started + args.budget_s,
                                    args.stage_timeout_s, SEED_TO)
            results["stages"] = stages
            results["stages_seconds"] = stages["seconds"]
            results["peak_rss_mb"] = max(v for s in stages["rss"].values() for v in s.values())
            top, half = str(max(sizes)), str(sorted(sizes)[-2]) if len(sizes) > 1 else None
            results["nonapi_200k_seconds"] = stages["totals"][top]
            results["linearity_200k_over_100k"] = None  # unknown while a total is missing
            if half and stages["totals"][top] and stages["totals"][half]:
                results["linearity_200k_over_100k"] = round(
                    stages["totals"][top] / stages["totals"][half], 3)
        if "sync" in only:
            found = credly_sync.measure_sync(bench, args.sync_badges, args.sync_final_share,
                                             args.sync_deleted)
            note(f"  credly sync: {found}")
            results["sync"] = found
            for name in ("sync_150k_seconds", "sync_requests", "sync_floor"):
                results[name] = found[name]
        if "outcomes" in only:
            # Last on this stack: it replaces the ledger with its own million badges.
            found = outcomes.measure_outcomes(bench, args.outcome_badges)
            results["outcomes"] = found
            results["outcomes_max_seconds"] = found["max_seconds"]
    if "history" in only:
        measure_history(results, args)
    if "night" in only:
        measure_night(results, args)
    results["scheduler_day_vs_ceiling"] = scheduler_day_vs_ceiling(results)
    results["load_1m"]["end"] = load_1m()
    results["bench_seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(table(results))


if __name__ == "__main__":
    main()
