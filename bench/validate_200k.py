"""Time and peak memory of validating one day of 200,000 generated Real-Time rows (JSON out)."""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import date

from badging.pipeline import validate
from devstack.seed import SeedParams, generate
from tests.unit.badging.pipeline.generated_frames import frame_from_dataset


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux: the process's high-water mark so far.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(rows: int, seed: int) -> dict[str, float | int]:
    """Generate `rows`, build the frame validate builds, run every suite once."""
    started = time.perf_counter()
    dataset = generate(SeedParams(date(2025, 8, 1), date(2026, 5, 12), rows, seed=seed))
    frame = frame_from_dataset(dataset)
    del dataset
    built = time.perf_counter()
    rss_before = _peak_rss_mb()
    import great_expectations  # noqa: F401  (import time is not validation time)

    imported = time.perf_counter()
    outcomes = validate.run_suites(
        frame, {name: validate.load_suite(name) for name in validate.SUITES},
        validate.suite_parameters(date(2026, 5, 12), validate.RowCountBand(0, 0.0)),
        validation_prefix="bench", run_name="bench")
    validated = time.perf_counter()
    return {
        "rows": len(frame),
        "generate_and_frame_s": round(built - started, 1),
        "gx_import_s": round(imported - built, 1),
        "validate_s": round(validated - imported, 1),
        "rows_per_s": round(len(frame) / (validated - imported)),
        "frame_mb": round(frame.memory_usage(deep=True).sum() / 2**20, 1),
        "peak_rss_before_validate_mb": round(rss_before),
        "peak_rss_mb": round(_peak_rss_mb()),
        "quarantined": len(outcomes[validate.ROW_SUITE].by_row),
        "warned": len(outcomes[validate.WARNING_SUITE].by_row),
        "table_ok": outcomes[validate.TABLE_SUITE].success,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(run(args.rows, args.seed), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
