"""Section 1 of `make bench`: the issue stage's efficiency, directly (BatchIssuer in one or
several processes, no Airflow) and through `airflow dags test`."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any

from badging.core.run import extract_window
from bench.harness import Bench, new_run_id, note
from bench.stages import STAGES

# A weekday with ordinary volume for the issuance runs.
ISSUE_DAY = date(2025, 11, 14)
ISSUE_TIMEOUT_S = 600.0
# The credly_api pool of config/pools.json, and a batch size that gives each slot as many.
POOL_SLOTS, POOL_BATCH = 4, 250


def _plan_badges(bench: Bench, badges: int, batch_size: int,
                 lookback: int) -> tuple[str, tuple[datetime, datetime], list[dict[str, int]]]:
    """A run planned up to its batches; the first batches that hold exactly `badges`."""
    bench.reset_runs()
    bench.sandbox_fresh(0)
    run_id = new_run_id("issue")
    window = extract_window(ISSUE_DAY, lookback)
    batches = []
    for stage in STAGES:
        # pool_slots 1: batches of exactly batch_size (no rounding to the pool's waves).
        done = bench.run_stage(bench.stage_spec(stage, run_id, ISSUE_DAY, window,
                                                batch_size=batch_size, pool_slots=1),
                               ISSUE_TIMEOUT_S)
        if done is None:
            raise SystemExit(f"issuance: {stage} took over {ISSUE_TIMEOUT_S} s")
        batches = done["result"] if stage == "plan" else batches
    chosen, total = [], 0
    for batch in batches:
        if total >= badges:
            break
        chosen.append(batch)
        total += batch["size"]
    if total != badges:
        raise SystemExit(f"planned batches give {total} badges, not {badges}: "
                         "pick a batch size that divides it")
    return run_id, window, chosen


def issue_direct(bench: Bench, badges: int, latency_ms: float, concurrency: int,
                 batch_size: int, lookback: int, processes: int = 1) -> dict[str, Any]:
    """BatchIssuer over the first `badges` planned badges, batch after batch, in `processes`
    stage processes at once (the pool's slots, without Airflow around them)."""
    run_id, window, chosen = _plan_badges(bench, badges, batch_size, lookback)
    bench.sandbox_fresh(latency_ms)
    note(f"issuance (direct, {processes} processes): {badges} badges in {len(chosen)} batches")
    specs = [bench.stage_spec("issue", run_id, ISSUE_DAY, window,
                              batches=chosen[n::processes], concurrency=concurrency)
             for n in range(processes)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=processes) as pool:
        results = list(pool.map(lambda spec: bench.run_stage(spec, ISSUE_TIMEOUT_S), specs))
    seconds = time.perf_counter() - started
    if None in results:
        raise SystemExit(f"issuance: issue took over {ISSUE_TIMEOUT_S} s")
    issued = sum(done["result"].get("issued", 0) for done in results)
    if issued != badges:
        raise SystemExit(f"direct issue: {issued} of {badges} issued: {results}")
    return {"badges": badges, "batches": len(chosen), "processes": processes,
            "seconds": round(seconds if processes > 1 else results[0]["seconds"], 2),
            "peak_rss_mb": round(max(done["peak_rss_mb"] for done in results), 1)}


def issue_dag(bench: Bench, latency_ms: float, concurrency: int, batch_size: int,
              lookback: int) -> dict[str, Any]:
    """The real DAG under `airflow dags test`; the issue stage is first start → last end."""
    bench.reset_runs()
    bench.sandbox_fresh(latency_ms)
    note(f"issuance (dags test): {ISSUE_DAY} with lookback {lookback}")
    # accept_volume: nobody is there to answer the volume gate if the bench's day asked.
    wall = bench.run_day(ISSUE_DAY, "dag-issuance", lookback_days=lookback,
                         batch_size=batch_size, concurrency=concurrency, accept_volume=True)
    tasks = bench.task_times()
    issue = [(start, end) for task, _, start, end in tasks if task == "issue"]
    issued = bench.ledger_states().get("issued", 0)
    per_task = {}
    for task, _, start, end in tasks:
        per_task[task] = round(per_task.get(task, 0.0) + (end - start).total_seconds(), 2)
    return {"badges": issued, "dag_wall_seconds": round(wall, 2), "issue_tasks": len(issue),
            "seconds": round((max(e for _, e in issue) - min(s for s, _ in issue))
                             .total_seconds(), 2),
            "task_seconds": per_task}


def efficiency(result: dict[str, Any], latency_ms: float, concurrency: int) -> None:
    ideal = result["badges"] * latency_ms / 1000 / concurrency
    result["ideal_seconds"] = round(ideal, 2)
    result["badges_per_s"] = round(result["badges"] / result["seconds"], 1)
    result["efficiency"] = round(ideal / result["seconds"], 3)

