"""Run one pipeline stage in a fresh process and print its wall time and peak RSS as JSON."""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
from datetime import date, datetime
from pathlib import Path

# A fresh interpreter per stage, so its peak RSS is that stage's (what one task process costs).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from badging.run import RunInfo


def _run_info(spec: dict) -> RunInfo:
    return RunInfo(
        run_id=spec["run_id"], day=date.fromisoformat(spec["day"]),
        window_start=datetime.fromisoformat(spec["window_start"]),
        window_end=datetime.fromisoformat(spec["window_end"]),
        dry_run=False, task_id=spec["stage"], map_index=-1, try_number=1,
    )


def _issue(run: RunInfo, spec: dict) -> dict:
    """The batches one after another, each with its own BatchIssuer: what `dags test` does."""
    from badging.credly import CredlyClient
    from badging.issuer import BatchIssuer

    credly = spec["credly"]
    client = CredlyClient(credly["base_url"], credly["token"], credly["organization_id"])
    totals: dict[str, int] = {}
    for batch_no in spec["batches"]:
        issuer = BatchIssuer(run, client, concurrency=spec["concurrency"],
                             badging=spec["badging"])
        for outcome, count in issuer.issue(batch_no, f"batch {batch_no}").items():
            totals[outcome] = totals.get(outcome, 0) + count
    return totals


def run_stage(spec: dict):
    """Call the stage's function as its Airflow task would, with DSNs instead of conn ids."""
    run = _run_info(spec)
    stage = spec["stage"]
    if stage == "extract":
        from badging.extract import extract

        return extract(run, ctims=spec["ctims"], badging=spec["badging"])
    if stage == "validate":
        from badging.errors import DataQualityError
        from badging.validate import validate

        try:
            return validate(run, max_failed_share=1.0, validation_prefix="bench",
                            badging=spec["badging"]).as_xcom()
        except DataQualityError as error:
            # Raised after everything is recorded: the work was done, the feed judged broken.
            return {"data_quality_error": str(error)}
    if stage == "eligibility":
        from badging.eligibility import decide

        return decide(run, badging=spec["badging"])
    if stage == "plan":
        from badging.ledger import plan

        batches, _ = plan(run, earner_id_secret=spec["earner_id_secret"],
                          batch_size=spec["batch_size"], badging=spec["badging"])
        return [batch.as_xcom() for batch in batches]
    if stage == "issue":
        return _issue(run, spec)
    raise SystemExit(f"unknown stage {stage!r}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    spec = json.loads(sys.argv[1])
    started = time.perf_counter()
    result = run_stage(spec)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "result": result}))


def peak_rss_mb() -> float:
    """This process's peak RSS. Not ru_maxrss: Linux carries that over from the parent
    across fork and exec, so it would report the bench driver's peak, not the stage's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
