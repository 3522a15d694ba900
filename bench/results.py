"""What `make bench` reports: one table of the results against their goals, and the file
that keeps them all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import credly_sync, outcomes
from bench.issuance import POOL_BATCH
from bench.stages import STAGES

RESULTS = Path(__file__).resolve().parent / "results.json"
# Issue 30's goals: a day through the scheduler within this much of the pool without
# Airflow (both measured in the same bench run), and ordinary days a backfill runs a minute.
SCHEDULER_DAY_GOAL = 1.4
BACKFILL_GOAL = 10


def scheduler_day_vs_ceiling(results: dict[str, Any]) -> float | None:
    """Seconds per badge through the scheduler over seconds per badge in the pool without
    Airflow; None unless both were measured."""
    day, pooled = results.get("scheduler_day"), results["issuance"].get("pool")
    if not day or not pooled:
        return None
    return round((day["seconds"] / day["badges"]) / (pooled["seconds"] / pooled["badges"]), 3)


def _check(value: float | None, goal: float, higher_is_better: bool = False) -> str:
    if value is None:
        return "NO"
    ok = value >= goal if higher_is_better else value <= goal
    return "yes" if ok else "NO"


def _seconds(value: float | None, timeout: float) -> str:
    return f"> {timeout:.0f} s (stopped)" if value is None else f"{value:.1f} s"


def table(results: dict[str, Any]) -> str:
    p = results["parameters"]
    rows: list[tuple[str, str, str, str]] = []
    direct, dag = results["issuance"].get("direct"), results["issuance"].get("dag")
    shape = f"L={p['latency_ms']:g} ms, C={p['concurrency']}, batches of {p['batch_size']}"
    for name, result in (("direct BatchIssuer", direct), ("dags test", dag)):
        if result:
            rows.append((f"issue stage, {name} (N={result['badges']}, {shape})",
                         f"{result['seconds']:.1f} s, {result['badges_per_s']:.1f} badges/s",
                         f"ideal {result['ideal_seconds']:.1f} s", ""))
            rows.append((f"  efficiency ideal/actual, {name}", f"{result['efficiency']:.3f}",
                         "≥ 0.90", _check(result["efficiency"], 0.90, True)))
    pooled = results["issuance"].get("pool")
    if pooled:
        rows.append((f"issue stage, {pooled['processes']} processes × C={p['concurrency']} "
                     f"without Airflow (N={pooled['badges']}, batches of {POOL_BATCH})",
                     f"{pooled['seconds']:.1f} s", f"ideal {pooled['ideal_seconds']:.1f} s", ""))
        rows.append(("  efficiency ideal/actual, the pool without Airflow",
                     f"{pooled['efficiency']:.3f}", "this machine's ceiling for the scheduler",
                     ""))
    stages = results.get("stages")
    if stages:
        for stage in STAGES:
            cells = []
            for size, seconds in stages["seconds"][stage].items():
                skipped = any(r[stage] is False for r in stages["samples"][size])
                if seconds is None:
                    cells.append("skipped" if skipped else f">{p['stage_timeout_s']:.0f}s")
                else:
                    cells.append(f"{seconds:.1f}s ({stages['staged'][size] / seconds:,.0f}/s)")
            peak = max(stages["rss"][stage].values())
            rows.append((f"{stage} " + " / ".join(f"{int(s) // 1000}k" for s in stages["staged"]),
                         " / ".join(cells), f"peak {peak:.0f} MB", ""))
        top = max(int(size) for size in stages["staged"]) // 1000
        total = results["nonapi_200k_seconds"]
        rows.append((f"non-Credly stages, {top}k rows", _seconds(total, p["stage_timeout_s"]),
                     "≤ 60 s", _check(total, 60)))
        linearity = results.get("linearity_200k_over_100k")
        rows.append(("linearity largest/second size (time)",
                     "n/a" if linearity is None else f"{linearity:.2f}", "≤ 2.2",
                     _check(linearity, 2.2)))
        rows.append(("peak RSS of a stage process", f"{results['peak_rss_mb']:.0f} MB",
                     "≤ 1536 MB", _check(results["peak_rss_mb"], 1536)))
    if "empty_day_seconds" in results:
        empty = results["empty_day_seconds"]
        rows.append(("empty day end to end, dag.test() call", f"{empty:.1f} s", "≤ 15 s",
                     _check(empty, 15)))
        rows.append(("  the same, whole fresh process (start, import, exit)",
                     f"{results['empty_day_process_seconds']:.1f} s", "for information", ""))
    if "sandbox_rps" in results:
        needed = p["concurrency"] * 1000 / p["latency_ms"]
        rows.append(("sandbox ceiling (zero latency, 8 threads)",
                     f"{results['sandbox_rps']:.0f} req/s", f"> C/L = {needed:.0f} req/s",
                     _check(results["sandbox_rps"], needed, True)))
    if "sync" in results:
        rows += credly_sync.table_rows(results["sync"])
    if "outcomes" in results:
        rows += outcomes.table_rows(results["outcomes"])
    if "night" in results:
        night = results["night"]
        ratio = night["night_cost_ratio_1m_vs_100k"]
        rows.append((f"an ordinary night at {night['old']['live_rows']:,} live rows over "
                     f"{night['young']['live_rows']:,}", f"{ratio:.3f}×",
                     f"≤ {night['goal_ratio']}×", _check(ratio, night["goal_ratio"])))
        if "night_cost_ratio_from_queued" in night:
            rows.append(("  the same from the runs' queued_at (the scheduler's pick-up in)",
                         f"{night['night_cost_ratio_from_queued']:.3f}×", "for information",
                         ""))
        check = night["check_seconds_ordinary_day"]
        rows.append(("  its badge check", "n/a" if check is None else f"{check:.1f} s",
                     "for information", ""))
    if "scheduler_day" in results:
        day = results["scheduler_day"]
        rows.append((f"day through the scheduler (N={day['badges']}, {day['slots']} slots × "
                     f"C={p['concurrency']}, {day['issue_tasks']} issue tasks)",
                     f"{day['seconds']:.1f} s", f"ideal {day['ideal_seconds']:.1f} s", ""))
        rows.append(("  efficiency ideal/actual, scheduler", f"{day['efficiency']:.3f}",
                     "for information", ""))
        ratio = results.get("scheduler_day_vs_ceiling")
        if ratio is not None:
            rows.append(("  the scheduler's day over the pool without Airflow (per badge)",
                         f"{ratio:.2f}×", f"≤ {SCHEDULER_DAY_GOAL}×",
                         _check(ratio, SCHEDULER_DAY_GOAL)))
    if "backfill" in results:
        backfill = results["backfill"]
        rows.append((f"backfill of {backfill['days']} ordinary days "
                     f"(max_active_runs {backfill['max_active_runs']})",
                     f"{backfill['runs_per_min']:.1f} runs/min",
                     f"≥ {BACKFILL_GOAL} runs/min",
                     _check(backfill["runs_per_min"], BACKFILL_GOAL, True)))
    if "history" in results:
        history = results["history"]
        rows.append((f"history load: {history['rows']:,} rows over four years, "
                     f"{history['held_in_credly']:,} in Credly ({history['adopted']:,} adopted, "
                     f"{history['issued_new']:,} issued)", f"{history['seconds']:.1f} s",
                     f"floor {history['floor_seconds']:.1f} s", ""))
        rows.append(("  history load over its floor", f"{history['over_floor']:.2f}×",
                     "≤ 1.3×", _check(history["over_floor"], 1.3)))
        clean = (history["duplicates_in_credly"] == 0 and history["credly_matches_ledger"]
                 and history["adopted_audited"] == history["adopted"])
        rows.append(("  no duplicate, every adoption audited", "yes" if clean else "NO",
                     "yes", "yes" if clean else "NO"))
    head = ("measure", "median", "goal / note", "met")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(head, widths, strict=True)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    load = results["load_1m"]
    lines.append(f"load average (1 min): {load['start']:.2f} at start, {load['end']:.2f} at end;"
                 f" stage medians of {results.get('stages', {}).get('rounds', 0)} rounds,"
                 f" empty day and sandbox of {p['reps']}, issuance one run each;"
                 f" results in {RESULTS.name}")
    return "\n".join(lines)

