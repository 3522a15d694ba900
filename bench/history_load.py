"""The history load (docs/history-load.md) through `make airflow`'s scheduler, against its floor.

Four years of Real-Time rows, most of their badges already in Credly: half issued by an
earlier deployment under the pipeline's earner ids (to addresses since changed), half by
hand to the student's address and name without one. One manual run over the range with
`adopt_existing` loads them. Its floor is Credly's: list pages × L / C (plan reads the list
within its one pool slot) + POSTs × L / (slots × C).
The run needs a stack of its own: its four years must not mix with the other sections' seed.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date
from typing import Any

import psycopg

from badging.core.recipients import earner_id
from bench.harness import Bench
from bench.scheduler import DAG_ID, POOL, _seconds, _task_seconds
from devstack.airflow_api import AirflowApi
from devstack.seed import SeedParams
from devstack.stack import local_secrets

HISTORY_FROM, HISTORY_TO = date(2022, 12, 1), date(2026, 11, 30)
HISTORY_SEED = SeedParams(HISTORY_FROM, HISTORY_TO, rows=150_000, dirty_rate=0.05, seed=2027)
# Credly's list pages hold 50 badges.
PAGE = 50
IMPORT_CHUNK = 5_000
RUN_TIMEOUT_S = 3_600.0

# One badge per eligible (student, assessment) of the range, its template, the student's
# address; only addresses no other student uses (a shared one is a person's call, not the
# bench's).
_EARNED = """
    SELECT DISTINCT ON (c.student_id, upper(btrim(c.assessment_code)))
           c.student_id, t.credly_template_id, lower(btrim(s.email)), s.first_name,
           s.last_name
    FROM ctims.realtime_certifications c
    JOIN devstack.seed_truth truth USING (certification_id)
    JOIN ctims.students s USING (student_id)
    JOIN (SELECT lower(btrim(email)) AS email FROM ctims.students
          GROUP BY 1 HAVING count(*) = 1) AS unshared
      ON unshared.email = lower(btrim(s.email))
    JOIN badge_templates t ON t.assessment_code = upper(btrim(c.assessment_code))
    WHERE truth.expected = 'eligible'
    ORDER BY c.student_id, upper(btrim(c.assessment_code)), c.certification_id
"""


def hold_in_credly(bench: Bench, held: int) -> int:
    """Put up to `held` of the range's badges in Credly before the load; returns how many."""
    with psycopg.connect(bench.stack.dsn("badging")) as conn:
        templates = conn.execute(
            "SELECT assessment_code, credly_template_id FROM badging.badge_templates").fetchall()
    with psycopg.connect(bench.stack.dsn("ctims")) as conn:
        conn.execute("CREATE TEMP TABLE badge_templates (assessment_code text, "
                     "credly_template_id text)")
        with conn.cursor().copy("COPY badge_templates FROM STDIN") as copy:
            for row in templates:
                copy.write_row(row)
        earned = conn.execute(_EARNED).fetchall()
    secret = local_secrets(bench.stack.paths)["earner_id_secret"]
    payloads = []
    for n, (student_id, template_id, email, first, last) in enumerate(earned[:held]):
        payload = {"badge_template_id": template_id, "issued_to_first_name": "Held",
                   "issued_to_last_name": "Earner", "issued_at": "2024-06-01T12:00:00Z"}
        if n % 2:
            # Without an earner id a badge is the student's only if it names them.
            payload |= {"recipient_email": email, "issued_to_first_name": first,
                        "issued_to_last_name": last}
        else:
            payload |= {"recipient_email": f"moved-{n}@example.org",
                        "issuer_earner_id": earner_id(secret, student_id)}
        payloads.append(payload)
    for start in range(0, len(payloads), IMPORT_CHUNK):
        bench.stack.sandbox.import_badges(payloads[start:start + IMPORT_CHUNK])
    return len(payloads)


def measure_history(bench: Bench, api: AirflowApi, *, held: int, latency_ms: float,
                    concurrency: int, batch_size: int) -> dict[str, Any]:
    """Load the seeded range in one run; check nothing was issued twice."""
    bench.reset_runs()
    bench.sandbox_fresh(0)
    holding = hold_in_credly(bench, held)
    bench.stack.sandbox.set_faults(latency_ms=latency_ms)
    slots = api.get(f"/pools/{POOL}")["slots"]
    run = api.post(f"/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": {
        "date": HISTORY_FROM.isoformat(), "date_to": HISTORY_TO.isoformat(),
        "lookback_days": 0, "adopt_existing": True, "accept_volume": True,
        "concurrency": concurrency, "batch_size": batch_size}})
    done = api.wait_for_run(DAG_ID, run["dag_run_id"], RUN_TIMEOUT_S)
    if done["state"] != "success":
        raise SystemExit(f"the history load ended {done['state']}")
    with psycopg.connect(bench.stack.dsn("badging")) as conn:
        issued, adopted, audited = conn.execute("""
            SELECT count(*) FILTER (WHERE state = 'issued'),
                   count(*) FILTER (WHERE adopted_at IS NOT NULL),
                   (SELECT count(DISTINCT issuance_id) FROM badging.audit_log
                    WHERE event = 'adopted')
            FROM badging.issuance""").fetchone()
        ledger_ids = {row[0] for row in conn.execute(
            "SELECT credly_badge_id FROM badging.issuance WHERE state = 'issued'")}
    badges = bench.stack.sandbox.badges()
    per_earner = Counter((b["badge_template_id"], b["issuer_earner_id"] or b["recipient_email"])
                         for b in badges)
    posts = issued - adopted
    pages = math.ceil(holding / PAGE)
    # plan holds one credly_api slot: the list is read `concurrency` pages at a time.
    floor = (pages / concurrency + posts / (slots * concurrency)) * latency_ms / 1000
    seconds = _seconds(done["queued_at"], done["end_date"])
    return {"rows": HISTORY_SEED.rows, "held_in_credly": holding, "adopted": adopted,
            "adopted_audited": audited, "issued_new": posts, "list_pages": pages,
            "duplicates_in_credly": sum(n - 1 for n in per_earner.values() if n > 1),
            "credly_matches_ledger": {b["id"] for b in badges} == ledger_ids,
            "seconds": round(seconds, 1), "floor_seconds": round(floor, 1),
            "over_floor": round(seconds / floor, 2) if floor else None,
            "task_seconds": _task_seconds(api, run["dag_run_id"])}
