"""Print what a run did, from badging.run_summary (what `make run` shows at the end)."""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg.rows import dict_row

from badging.run import AGENCY_TZ

_COUNTS = ("staged", "quarantined", "ineligible", "planned", "issued", "already_issued",
           "failed", "still_pending", "would_issue")


def print_summary(badging_dsn: str, day: date) -> int:
    """Print the latest run summary for `day`; returns 1 when there is none."""
    with psycopg.connect(badging_dsn, row_factory=dict_row) as conn:
        row = conn.execute(
            "SELECT * FROM badging.run_summary WHERE logical_date = %s "
            "ORDER BY updated_at DESC LIMIT 1", (day,)).fetchone()
        ledger = conn.execute(
            "SELECT state, count(*) AS n FROM badging.issuance GROUP BY state ORDER BY state"
        ).fetchall()
    if row is None:
        print(f"no run summary for {day}: the report task did not run")
        return 1
    print(f"\nRun {row['run_id']} — day {day}"
          f"{' (dry run)' if row['dry_run'] else ''}")
    start, end = (row[k].astimezone(AGENCY_TZ) for k in ("window_start", "window_end"))
    print(f"window {start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} America/Chicago")
    for name in _COUNTS:
        print(f"  {name:<24}{row[name]:>8}")
    for reason, count in sorted(row["ineligible_by_reason"].items()):
        print(f"    ineligible: {reason:<24}{count:>6}")
    print(f"  data quality ok          {row['dq_success']} "
          f"({100 * (row['dq_failed_share'] or 0):.1f}% quarantined)")
    print("ledger (all runs): " + ", ".join(f"{r['state']} {r['n']}" for r in ledger))
    print(f"correction report: {row['report_location'] or 'not produced yet (issue 5)'}")
    print(f"data docs:         {row['data_docs_location'] or 'not produced yet (issue 5)'}")
    return 0
