"""`make bench`'s outcomes (issue 32, docs/outcomes.md "Measured"): 1,000,000 badges in the
ledger, the report's refresh of the summary (all of them, then a night's changes), and every
console page and export through a real Airflow API server, timed from outside."""

from __future__ import annotations

import json
import signal
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
import requests

from badging.core.run import RunInfo
from badging.outcomes.keep import keep
from bench.harness import Bench, load_1m
from devstack.airflow_services import ADMIN, AirflowServices, AirflowSite, interrupted_by
from devstack.ports import free_port
from devstack.seed import SeedParams

# CTIMS's reference (60 sites, 150 programs, their assessments) and a few entries.
REFERENCE_SEED = SeedParams(date_from=datetime(2026, 11, 1).date(),
                            date_to=datetime(2026, 11, 30).date(), rows=2000,
                            dirty_rate=0.05, seed=2032)
GOAL_SECONDS = 1.0
CONTACT, CONTACT_PASSWORD = "contact", "contact-password"
REPS = 5
# A night's changes the second refresh counts again (a sync's acceptances).
NIGHT_CHANGES = 5000
# Every badge of every year and site: streamed, timed once (first byte and whole).
WHOLE_LEDGER = ("csv, the whole ledger", "/badging/outcomes.csv?year=all")

# One INSERT of `badges` ledger rows: each an entry of a program's blueprint (program, its
# site, one of its assessments), issued over 2022-12-01 .. 2026-11-30, with the outcomes a
# mature ledger has (58 % accepted, 25 % pending, rejected, expired, revoked by the pipeline
# or in Credly, a few never synced) and days to accept skewed to the first week. Multipliers
# spread n over each choice deterministically.
SEED_LEDGER = """
WITH links AS (
    SELECT row_number() OVER () - 1 AS i, l.program_code, l.site_code, l.assessment_code
    FROM unnest(%(programs)s::text[], %(sites)s::text[], %(assessments)s::text[])
         AS l(program_code, site_code, assessment_code)
),
n AS (SELECT g AS n, (g * 40503) %% 100 AS roll
       FROM generate_series(1::bigint, %(badges)s::bigint) g)
INSERT INTO badging.issuance (student_id, assessment_code, certification_id,
                              credly_template_id, earner_id, state, credly_badge_id,
                              planned_run_id, issued_run_id, issued_at, site_code,
                              program_code, credly_state, credly_state_at,
                              credly_state_changed_at)
SELECT n.n, l.assessment_code, n.n, 'bench-template', 'e' || n.n,
       CASE WHEN n.roll >= 91 AND n.roll < 95 THEN 'revoked' ELSE 'issued' END,
       'bench-' || n.n, 'bench', 'bench', t.issued_at, l.site_code, l.program_code,
       CASE WHEN n.roll < 58 THEN 'accepted' WHEN n.roll < 83 THEN 'pending'
            WHEN n.roll < 88 THEN 'rejected' WHEN n.roll < 91 THEN 'expired'
            WHEN n.roll < 93 THEN 'revoked' WHEN n.roll < 95 THEN 'deleted' END,
       now(),
       t.issued_at + make_interval(secs => 86400 * power((n.n * 31) %% 1000, 3) / 5e6)
FROM n
JOIN links l ON l.i = (n.n * 7919) %% %(links)s
CROSS JOIN LATERAL (SELECT timestamptz '2022-12-01 06:00+00'
                    + make_interval(secs => (n.n * 2654435761) %% (1461 * 86400)) AS issued_at) t
"""
SEED_AUTHORS = """
INSERT INTO badging.entry_author (certification_id, entered_by, read_at)
SELECT certification_id, 'instructor' || (certification_id % 6) || right(site_code, 3), now()
FROM badging.issuance
"""


def note(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')} load {load_1m():.2f}] {message}",
          file=sys.stderr, flush=True)


def _links(bench: Bench) -> tuple[list[str], list[str], list[str]]:
    with psycopg.connect(bench.stack.dsn("ctims")) as conn:
        rows = conn.execute("""
            SELECT btrim(p.program_code), btrim(p.site_code), upper(btrim(pa.assessment_code))
            FROM ctims.program_assessments pa JOIN ctims.programs p USING (program_code)
            ORDER BY 1, 3""").fetchall()
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def seed_ledger(bench: Bench, badges: int) -> dict[str, Any]:
    """`badges` ledger rows as migration 014 finds them (every one queued for the report)."""
    programs, sites, assessments = _links(bench)
    began = time.perf_counter()
    with psycopg.connect(bench.stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("TRUNCATE badging.issuance, badging.outcome_dirty, badging.outcome_badge,"
                     " badging.outcome_summary, badging.entry_author, badging.run_batch,"
                     " badging.revocation, badging.badge_finding, badging.lease CASCADE")
        # The triggers queue rows one by one; the migration queues them in one statement.
        conn.execute("SET session_replication_role = replica")
        conn.execute(SEED_LEDGER, {"programs": programs, "sites": sites,
                                   "assessments": assessments, "links": len(programs),
                                   "badges": badges})
        conn.execute("SET session_replication_role = DEFAULT")
        conn.execute(SEED_AUTHORS)
        conn.execute("INSERT INTO badging.outcome_dirty SELECT issuance_id "
                     "FROM badging.issuance WHERE issued_at IS NOT NULL")
        conn.execute("VACUUM ANALYZE badging.issuance")
        conn.execute("VACUUM ANALYZE badging.entry_author")
    return {"badges": badges, "links": len(programs), "seed_seconds":
            round(time.perf_counter() - began, 1)}


def _refresh(bench: Bench, label: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    run = RunInfo(run_id=f"bench-outcomes-{label}", day=now.date(), window_start=now,
                  window_end=now, dry_run=False, task_id="report")
    began = time.perf_counter()
    kept = keep(run, badging=bench.stack.dsn("badging"),
                ctims=bench.stack.dsn("ctims", user="ctims_reader"))
    return {**kept.as_xcom(), "seconds": round(time.perf_counter() - began, 2)}


def _night(bench: Bench) -> None:
    """A sync's night: earners accepted NIGHT_CHANGES pending badges."""
    with psycopg.connect(bench.stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("""
            UPDATE badging.issuance SET credly_state = 'accepted', credly_state_at = now(),
                   credly_state_changed_at = now(), updated_at = now()
            WHERE issuance_id IN (SELECT issuance_id FROM badging.issuance
                                  WHERE credly_state = 'pending' ORDER BY issuance_id
                                  LIMIT %s)""", (NIGHT_CHANGES,))
        conn.execute("ANALYZE badging.outcome_badge")
        conn.execute("ANALYZE badging.outcome_summary")


def _http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def _time(session: requests.Session, url: str, token: str) -> dict[str, Any]:
    """One request, read to its end: (status, seconds to the first byte, seconds in all)."""
    began = time.perf_counter()
    with session.get(url, headers={"Authorization": f"Bearer {token}"}, stream=True,
                     timeout=120) as response:
        chunks = response.iter_content(65536)
        first = next(chunks, b"")
        ttfb = time.perf_counter() - began
        size = len(first) + sum(len(chunk) for chunk in chunks)
    return {"status": response.status_code, "ttfb": ttfb,
            "seconds": time.perf_counter() - began, "bytes": size}


def _requests(site_code: str, certification_id: int) -> list[tuple[str, str, str]]:
    """(who, label, path) of every console page and export measured (WHOLE_LEDGER aside)."""
    operator = [
        ("lookup", f"/badging/?certification_id={certification_id}"),
        ("lookup json", f"/badging/api/certifications/{certification_id}"),
        ("runs", "/badging/runs"), ("sites", "/badging/sites"),
        ("sites json", "/badging/api/sites"),
        ("site page", f"/badging/sites/{site_code}"),
        ("site json", f"/badging/api/sites/{site_code}"),
        ("outcomes, this school year", "/badging/outcomes"),
        ("outcomes, all years", "/badging/outcomes?year=all"),
        ("outcomes json, all years", "/badging/api/outcomes?year=all"),
        ("outcomes, 2024-25 cluster 47", "/badging/outcomes?year=2024-25&cluster=47"),
        ("outcomes, a site's year", f"/badging/outcomes?year=2024-25&site={site_code}"),
        ("csv, a site's school year", f"/badging/outcomes.csv?year=2024-25&site={site_code}"),
        ("csv, a cluster's school year", "/badging/outcomes.csv?year=2024-25&cluster=47"),
        ("csv, the agency's school year", "/badging/outcomes.csv?year=2024-25"),
        ("templates", "/badging/templates"), ("access", "/badging/access")]
    contact = [("outcomes, all years", "/badging/outcomes?year=all"),
               ("site page", f"/badging/sites/{site_code}"),
               ("csv, all years", "/badging/outcomes.csv?year=all")]
    return [("operator", *r) for r in operator] + [("contact", *r) for r in contact]


def measure_console(bench: Bench) -> dict[str, Any]:
    """Every page and export through a real API server: REPS timed requests each."""
    with psycopg.connect(bench.stack.dsn("badging"), autocommit=True) as conn:
        site_code, certification_id = conn.execute("""
            SELECT site_code, min(certification_id) FROM badging.outcome_badge
            GROUP BY site_code ORDER BY count(*) DESC LIMIT 1""").fetchone()
        conn.execute("INSERT INTO badging.console_site_user (username, site_code, granted_by) "
                     "VALUES (%s, %s, 'bench') ON CONFLICT DO NOTHING", (CONTACT, site_code))
    site = AirflowSite(bench.stack, free_port())
    env = site.env(use_job_schedule=False)
    env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = f"{ADMIN}:admin,{CONTACT}:viewer"
    site.passwords_file.write_text(json.dumps(json.loads(site.passwords_file.read_text())
                                              | {CONTACT: CONTACT_PASSWORD}))
    timings: dict[str, Any] = {}
    with interrupted_by(signal.SIGTERM), AirflowServices(site, env=env,
                                                         components=("api-server",)):
        session = _http()
        tokens = {}
        for who, (user, password) in (("operator", site.login),
                                      ("contact", (CONTACT, CONTACT_PASSWORD))):
            answer = session.post(f"{site.url}/auth/token", timeout=30,
                                  json={"username": user, "password": password})
            answer.raise_for_status()
            tokens[who] = answer.json()["access_token"]
        measured = [(who, label, path, REPS)
                    for who, label, path in _requests(site_code, certification_id)]
        for who, label, path, reps in [*measured, ("operator", *WHOLE_LEDGER, 1)]:
            _time(session, f"{site.url}{path}", tokens[who])  # the first builds the app
            samples = [_time(session, f"{site.url}{path}", tokens[who]) for _ in range(reps)]
            if any(s["status"] != 200 for s in samples):
                raise SystemExit(f"{who} {path}: HTTP {samples[0]['status']}")
            timings[f"{who}: {label}"] = {
                "median": round(statistics.median(s["seconds"] for s in samples), 3),
                "max": round(max(s["seconds"] for s in samples), 3),
                "ttfb_max": round(max(s["ttfb"] for s in samples), 3),
                "bytes": samples[0]["bytes"]}
            note(f"  {who}: {label}: {timings[f'{who}: {label}']}")
    return {"site": site_code, "requests": timings}


def measure_outcomes(bench: Bench, badges: int) -> dict[str, Any]:
    bench.stack.seed(REFERENCE_SEED)
    note(f"outcomes: seeding {badges:,} ledger rows")
    seeded = seed_ledger(bench, badges)
    note(f"  seeded in {seeded['seed_seconds']} s; the report's first refresh")
    first = _refresh(bench, "first")
    note(f"  first refresh: {first}")
    _night(bench)
    nightly = _refresh(bench, "night")
    note(f"  a night's refresh: {nightly}")
    with psycopg.connect(bench.stack.dsn("badging")) as conn:
        summary_rows = conn.execute("SELECT count(*) FROM badging.outcome_summary").fetchone()[0]
    console = measure_console(bench)
    # A page answers when it has been read whole; an export streams (as many rows as the
    # filter holds): it answers with its first byte, and its whole time is reported beside.
    pages = {k: v for k, v in console["requests"].items() if ": csv" not in k}
    exports = {k: v for k, v in console["requests"].items() if ": csv" in k}
    worst = max(pages.items(), key=lambda kv: kv[1]["max"])
    return {**seeded, "summary_rows": summary_rows, "first_refresh": first,
            "night_refresh": nightly, **console,
            "max_seconds": worst[1]["max"], "max_request": worst[0],
            "max_ttfb": max(v["ttfb_max"] for v in console["requests"].values()),
            "exports": {k: {"seconds": v["max"], "mb": round(v["bytes"] / 1e6, 1)}
                        for k, v in exports.items()}}


def table_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The bench table's lines for the outcomes."""
    def met(value: float) -> str:
        return "yes" if value <= GOAL_SECONDS else "NO"

    rows = [
        (f"outcomes: report's first refresh, {result['badges']:,} badges "
         f"({result['summary_rows']:,} summary rows)",
         f"{result['first_refresh']['seconds']:.1f} s", "once, after migration 014", ""),
        (f"outcomes: a night's refresh ({result['night_refresh']['badges_counted']:,} badges)",
         f"{result['night_refresh']['seconds']:.1f} s", "each report", ""),
        (f"outcomes: slowest console page, read whole (max of {REPS})",
         f"{result['max_seconds']:.2f} s ({result['max_request']})", f"≤ {GOAL_SECONDS:.0f} s",
         met(result["max_seconds"])),
        ("outcomes: first byte of any page or export",
         f"{result['max_ttfb']:.2f} s", f"≤ {GOAL_SECONDS:.0f} s", met(result["max_ttfb"])),
    ]
    for name, export in result["exports"].items():
        rows.append((f"  {name}, streamed to its end", f"{export['seconds']:.2f} s, "
                     f"{export['mb']:.0f} MB", "for information", ""))
    return rows
