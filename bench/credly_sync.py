"""`make bench`'s Credly sync: 150,000 live badges read into the ledger, against the floor of
one list page per 50 badges (docs/credly-sync.md)."""

from __future__ import annotations

import io
import math
import time
from datetime import UTC, date, datetime
from typing import Any

import psycopg

from badging.core.run import RunInfo
from badging.credly import CredlyClient
from badging.lifecycle.sync import sync
from bench.harness import Bench
from devstack.stack import local_secrets

TEMPLATE = "bench-sync-template"
PAGE = 50


def _ledger(bench: Bench, ids: list[str]) -> None:
    """One `issued` ledger row per sandbox badge (COPY: seconds for 150,000)."""
    rows = io.StringIO()
    for n, badge_id in enumerate(ids, start=1):
        rows.write(f"{n}\tBENCH\t{n}\t{TEMPLATE}\tbench-{n}\tissued\t{badge_id}\tbench\n")
    with psycopg.connect(bench.stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("TRUNCATE badging.issuance, badging.credly_sync, badging.audit_log, "
                     "badging.revocation, badging.run_batch")
        with conn.cursor().copy(
                "COPY badging.issuance (student_id, assessment_code, certification_id,"
                " credly_template_id, earner_id, state, credly_badge_id, planned_run_id)"
                " FROM STDIN") as copy:
            copy.write(rows.getvalue())
        conn.execute("UPDATE badging.issuance SET issued_at = now()")
        conn.execute("VACUUM ANALYZE badging.issuance")


def _once(bench: Bench, client: CredlyClient, label: str) -> dict[str, Any]:
    start = datetime.now(UTC)
    run = RunInfo(run_id=f"bench-sync-{label}-{start:%H%M%S%f}", day=date.today(),
                  window_start=start, window_end=start, dry_run=False, task_id="sync_credly")
    served = sum(bench.stack.sandbox.state()["requests"].values())
    began = time.perf_counter()
    result = sync(run, client, badging=bench.stack.dsn("badging"))
    seconds = time.perf_counter() - began
    # What Credly served, retries included, beside what the sync counted.
    on_the_wire = sum(bench.stack.sandbox.state()["requests"].values()) - served
    return {**result.as_xcom(), "seconds": round(seconds, 2), "served": on_the_wire,
            "floor": math.ceil(result.live_before / PAGE)}


def measure_sync(bench: Bench, badges: int, final_share: float, deleted: int) -> dict[str, Any]:
    """Sync `badges` live badges twice: once all pending (the first sync of a deployment: no
    watermark), then after earners accepted a third and `final_share` became final
    (rejected by their earners, revoked or deleted by someone else): the daily case."""
    sandbox = bench.stack.sandbox
    sandbox.reset()
    sandbox.put_templates([{"id": TEMPLATE, "name": "Bench sync", "state": "active"}])
    ids = sandbox.issue_many(badges, TEMPLATE)
    _ledger(bench, ids)
    secrets = local_secrets(bench.stack.paths)
    client = CredlyClient(bench.stack.sandbox_base_url, secrets["credly_token"],
                          secrets["credly_org_id"])
    first = _once(bench, client, "first")
    revoked = max(1, badges // 1000)
    sandbox.set_earners(accept_share=0.33, reject_share=max(0.0, final_share))
    for badge_id in ids[:revoked]:
        sandbox.revoke_badge(badge_id)
    for badge_id in ids[revoked:revoked + deleted]:
        sandbox.delete_badge(badge_id)
    daily = _once(bench, client, "daily")
    return {"badges": badges, "first": first, "daily": daily,
            "sync_150k_seconds": daily["seconds"], "sync_requests": daily["requests"],
            "sync_floor": math.ceil(badges / PAGE)}


def table_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The bench table's lines for the sync."""
    rows = []
    for name in ("first", "daily"):
        run = result[name]
        extra = run["requests"] - math.ceil(result["badges"] / PAGE)
        rows.append((
            f"credly sync, {result['badges']:,} live badges, {name} "
            f"({run['changed']:,} changed)",
            f"{run['seconds']:.1f} s, {run['requests']:,} requests ({run['live_pages']} live"
            f" + {run['final_pages']} final pages + {run['lookups']} lookups)",
            f"floor {result['sync_floor']:,} + small constant", f"+{extra}"))
    return rows
