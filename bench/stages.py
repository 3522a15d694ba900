"""Section 2 of `make bench`: extract, validate, eligibility and plan over windows of exact
sizes, each stage's task body in a process of its own (bench/stage_worker.py)."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from bench.harness import Bench, chicago_midnight, median, new_run_id, next_day, note

STAGES = ("extract", "validate", "eligibility", "plan")


def pipeline_once(bench: Bench, rows: int, day: date, timeout: float) -> dict[str, Any]:
    """extract → validate → eligibility → plan over exactly `rows` rows, each in its process.

    A stage past `timeout` is recorded as None and ends the round (its successors need it).
    """
    end = chicago_midnight(next_day(day))
    window = (bench.window_ending(rows, end), end)
    run_id = new_run_id(f"stages{rows}")
    bench.reset_runs()
    # False marks a stage skipped because the one before it was stopped.
    out: dict[str, Any] = dict.fromkeys(STAGES, False)
    for stage in STAGES:
        out[stage] = bench.run_stage(bench.stage_spec(stage, run_id, day, window,
                                                      batch_size=250), timeout)
        if out[stage] is None:
            note(f"  {stage} stopped after {timeout:.0f} s")
            break
    out["staged"] = out["extract"]["result"] if out["extract"] else rows
    note("  " + ", ".join(f"{s} {out[s]['seconds']:.1f}s/{out[s]['peak_rss_mb']:.0f}MB"
                          for s in STAGES if out[s]))
    return out


def measure_stages(bench: Bench, sizes: list[int], reps: int, deadline: float,
                   timeout: float, day: date) -> dict[str, Any]:
    """Up to `reps` rounds over all sizes, every window ending at `day`; a round that would
    end past `deadline` is skipped (one round always runs), so `make bench` keeps to its time
    budget on a slow machine."""
    samples: dict[int, list[dict]] = {size: [] for size in sizes}
    # Interleave sizes so a burst of load on the shared machine hits all of them alike.
    for rep in range(reps):
        round_started = time.perf_counter()
        try:
            done = {}
            for size in sizes:
                note(f"stages: {size} rows, round {rep + 1} of {reps}")
                done[size] = pipeline_once(bench, size, day, timeout)
        except SystemExit as failure:
            if rep == 0:
                raise
            # Keep the rounds that completed (the tree may be mid-edit by a teammate).
            note(f"round {rep + 1} dropped: {str(failure).splitlines()[0]}")
            break
        for size, result in done.items():
            samples[size].append(result)
        if time.perf_counter() + (time.perf_counter() - round_started) > deadline:
            break
    # None stands for "stopped at the timeout": a median or total that includes one is None.
    seconds: dict[str, dict[str, float | None]] = {stage: {} for stage in STAGES}
    rss: dict[str, dict[str, float]] = {stage: {} for stage in STAGES}
    staged: dict[str, int] = {}
    for size, runs in samples.items():
        staged[str(size)] = runs[0]["staged"]
        for stage in STAGES:
            done = [r[stage] for r in runs]
            seconds[stage][str(size)] = (round(median([d["seconds"] for d in done]), 2)
                                         if all(done) else None)
            rss[stage][str(size)] = round(max((d["peak_rss_mb"] for d in done if d),
                                              default=0.0), 1)
    totals = {str(size): _total(runs) for size, runs in samples.items()}
    return {"seconds": seconds, "rss": rss, "staged": staged, "totals": totals,
            "rounds": len(samples[sizes[0]]), "samples": {str(k): v for k, v in samples.items()}}


def _total(runs: list[dict[str, Any]]) -> float | None:
    if not all(r[s] for r in runs for s in STAGES):
        return None
    return round(median([sum(r[s]["seconds"] for s in STAGES) for r in runs]), 2)
