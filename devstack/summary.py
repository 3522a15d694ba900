"""Print what a run did, from badging.run_summary (what `make run` shows at the end)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from badging.core.run import AGENCY_TZ

_COUNTS = ("staged", "quarantined", "ineligible", "planned", "issued", "already_issued",
           "failed", "still_pending", "would_issue")


def _openable(location: str | None) -> str:
    """A local report path as a file:// URL a terminal or browser opens; URLs as they are."""
    if not location:
        return "not written (the report task failed before writing it)"
    return location if "://" in location else Path(location).as_uri()


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
    print(f"window {start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} {AGENCY_TZ.key}")
    for name in _COUNTS:
        print(f"  {name:<24}{row[name]:>8}")
    for reason, count in sorted(row["ineligible_by_reason"].items()):
        print(f"    ineligible: {reason:<24}{count:>6}")
    expiry = row.get("expiry") or {}
    for name in ("with_expiry", "without_expiry", "renewals"):
        print(f"    issued {name.replace('_', ' '):<26}{expiry.get(name, 0):>6}")
    print(f"  data quality ok          {row['dq_success']} "
          f"({100 * (row['dq_failed_share'] or 0):.1f}% quarantined)")
    if row.get("dq_reason"):
        print(f"  data quality alert       {row['dq_reason']}")
    revocations = row.get("revocations") or {}
    for name in ("unjustified", "revoked", "held", "failed", "would_revoke", "reissued"):
        if revocations.get(name):
            print(f"  revocations: {name:<11}{revocations[name]:>8}")
    if revocations.get("blocked"):
        print(f"  revocations blocked      {revocations['blocked']}")
    print("ledger (all runs): " + ", ".join(f"{r['state']} {r['n']}" for r in ledger))
    print(f"correction report: {_openable(row['report_location'])}")
    print(f"data docs:         {_openable(row['data_docs_location'])}")
    return 0
