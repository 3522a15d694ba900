"""
### Credly badges for Oklahoma CareerTech — daily

**Owner:** CareerTech data engineering (`careertech-data`) · **Runs:** every night after
midnight America/Chicago, for the day before (its data interval) · **Source:** CTIMS
"Real-Time" certifications (`ctims_db`, read only) · **Ledger:** `badging_db`, schema
`badging` · **Credly:** `credly_api`, pool `credly_api` · **Mail:** `smtp_default`

Takes the day's Real-Time entries (and `lookback_days` before it), validates them, applies
the agency's rules, records each badge once in the ledger and issues it through Credly; then
keeps issued badges in step with CTIMS and Credly and tells each technology center what to
fix. **Re-running is safe:** clearing tasks, re-running a day, overlapping backfills and
killed workers never send a badge twice.

| task | in one line |
|---|---|
| `extract` | stages the window's rows from CTIMS |
| `validate` | Great Expectations: quarantines bad rows; fails the run on a broken feed |
| `volume_gate` | asks an operator (Required actions) when the day's volume looks wrong |
| `decide_eligibility` | the agency's rules, one reason per row refused |
| `plan` | one ledger row per badge, ever; issue batches |
| `issue` | one mapped task per batch: issues each badge exactly once |
| `sync_credly` | reads every live badge's Credly state |
| `check_badges` | checks issued badges against CTIMS; plans revocations and corrections |
| `revocation_gate` | asks an operator when many badges would be revoked |
| `revoke` | makes the approved revocations and corrections in Credly |
| `report` | run summary, correction report, Data Docs |
| `notify_sites` | mails each technology center its entries to fix |
| `fail_run_if_a_task_failed` | keeps the run red when any task failed; alerts the operators |

**Everything else** — params, manual runs, backfills, the history load, answering the gates,
**When it is red** (per task), alerts, site lists, the Badging page — is the runbook,
`docs/operations.md` in the repository; the design is in `docs/`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import (
    AsyncCallback,
    CronDataIntervalTimetable,
    DeadlineAlert,
    Param,
    dag,
    get_current_context,
    task,
)

from badging.airflow.deadline import LogicalDateUnlessBackfill
from badging.airflow.tasks import revocation_check, volume_check
from badging.core.constants import (
    AGENCY_TIMEZONE,
    DAG_ID,
    LATE_AFTER_LOGICAL_DATE_HOURS,
    PROGRAM_LAUNCH,
    REVOCATIONS_WITHOUT_APPROVAL,
    REVOCATIONS_WITHOUT_APPROVAL_MAX,
    Gate,
    TaskId,
)
from badging.gates.approval import approval_gate

# Names and dates only (standard library): parsing stays fast. The gates build their task
# groups from Airflow's own operators; their checks import their database code lazily.
from badging.notify import alerts

# One try of one issue batch. A batch of 500 takes a minute or two at Credly's usual latency
# (8 calls in flight); a long 429 storm (Retry-After up to 5 min per call) can stretch it to
# tens of minutes. Past 2 h the try is stuck (a black-holed network, a lock the database
# bounds missed): it is ended, its pool slot freed, and the retry takes the rows again, each
# in_flight row looked up in Credly first (docs/exactly-once.md).
ISSUE_TIMEOUT = timedelta(hours=2)
VOLUME_GATE_TIMEOUT = timedelta(hours=20)
# Revocations wait for an operator at most this long, then are held for the next run. It
# runs beside issue, after the volume gate: 20 h + 12 h stays inside DAGRUN_TIMEOUT.
REVOCATION_GATE_TIMEOUT = timedelta(hours=12)
# One try of the Credly sync: 150,000 live badges are about 3,000 list pages, minutes at
# Credly's usual latency; past an hour it is stuck (its retry reads again).
SYNC_TIMEOUT = timedelta(hours=1)
# One try of plan. A day's plan takes seconds; a history load plans 150,000 rows (about a
# minute) and, with adopt_existing, reads Credly's whole badge list like the sync (3,000
# pages, minutes at `concurrency` pages in flight). Past an hour it is stuck; its retry is
# safe (the ledger's rows exist once, adoption repeats nothing: docs/history-load.md).
PLAN_TIMEOUT = timedelta(hours=1)
DAGRUN_TIMEOUT = timedelta(hours=36)


@dag(
    dag_id=DAG_ID,
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=AGENCY_TIMEZONE),
    start_date=pendulum.datetime(PROGRAM_LAUNCH.year, PROGRAM_LAUNCH.month, PROGRAM_LAUNCH.day,
                                 tz=AGENCY_TIMEZONE),
    # History is loaded by one run over a range (date, date_to; docs/history-load.md), not
    # by the scheduler catching up on deploy.
    catchup=False,
    # Runs of different days may overlap safely (the ledger settles shared rows); the
    # credly_api pool, not this number, bounds the load on Credly. A backfill brings its
    # own max_active_runs (set in the backfill form), which applies instead.
    max_active_runs=4,
    # A run stuck anywhere (a task queued in a missing pool, a hung worker) ends red instead
    # of holding one of max_active_runs for good. Longer than its slowest legitimate path:
    # the volume gate's 20 h wait for an operator, plan's 3 tries of at most PLAN_TIMEOUT
    # (a history load's), then issue's 5 tries of at most ISSUE_TIMEOUT each with their
    # back-off (10 h 15 min), and minutes for the rest (about 34 h). Shorter than 3 days,
    # so stuck runs can never fill max_active_runs.
    dagrun_timeout=DAGRUN_TIMEOUT,
    doc_md=__doc__,
    # 06:00 Chicago the morning after the day processed; the callback ignores all but
    # scheduled runs. A backfill's run gets no deadline (it would be long past for an old
    # day and show "Missed"): badging/airflow/deadline.py, registered by plugins/badging_deadline.py.
    deadline=DeadlineAlert(reference=LogicalDateUnlessBackfill(),
                           interval=timedelta(hours=LATE_AFTER_LOGICAL_DATE_HOURS),
                           callback=AsyncCallback(alerts.alert_late_run),
                           name="finished_by_6am"),
    tags=["careertech", "credly", "badging"],
    default_args={
        "owner": "careertech-data",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        # Keeps each failure's one-line reason for the operators' alert.
        "on_failure_callback": alerts.record_failure,
    },
    params={
        "date": Param(None, type=["null", "string"], format="date", title="Day to process",
                      description=f"YYYY-MM-DD, {AGENCY_TIMEZONE}. Empty: the run's data interval "
                                  "(or yesterday for a manual run without one)."),
        "date_to": Param(None, type=["null", "string"], format="date",
                         title="Last day of a history load",
                         description="YYYY-MM-DD. Set with 'date' to load every day from "
                                     "'date' to this one in one run (asks to confirm the "
                                     "volume unless accept_volume)."),
        "adopt_existing": Param(False, type="boolean",
                                description="Before issuing, read Credly's badges once and "
                                            "record those it already holds (by hand, bulk "
                                            "upload) as adopted instead of issuing them."),
        "lookback_days": Param(3, type="integer", minimum=0, maximum=60,
                               description="Also take rows changed this many days before the "
                                           "day: late uploads and replication lag."),
        "dry_run": Param(False, type="boolean",
                         description="Decide and audit (would_issue) without calling Credly "
                                     "or changing the ledger."),
        "max_failed_share": Param(0.2, type="number", minimum=0, maximum=1,
                                  description="Fail the run when more than this share of rows "
                                              "fails validation (a broken feed)."),
        "retry_failed": Param(False, type="boolean",
                              description="Try again badges that failed for good in earlier "
                                          "runs (e.g. after a template was fixed)."),
        # Each issue task costs a process start and a tail: 500 badges keep that small even
        # at low latency; a day's batches are cut in full waves of the pool (pool_slots).
        "batch_size": Param(500, type="integer", minimum=1,
                            description="Most badges per issue task (grows if a day would need "
                                        "more than 200 tasks)."),
        # Tasks cannot read a pool's size: the deployment's value, kept beside pools.json.
        "pool_slots": Param(4, type="integer", minimum=1,
                            description="Slots of the credly_api pool: issue tasks come in full "
                                        "waves of it (none under 50 badges)."),
        "concurrency": Param(8, type="integer", minimum=1, maximum=64,
                             description="Credly calls in flight inside one issue task."),
        "accept_volume": Param(False, type="boolean",
                               description="Accept the day's volume without asking, even "
                                           "outside its band (backfills of known-good "
                                           "history). Recorded as the decision, with who "
                                           "triggered the run."),
        "send_site_lists": Param(True, type="boolean",
                                 description="Mail each technology center its entries to fix "
                                             "(once per site and day; backfills never do)."),
        "revocation_grace_days": Param(2, type="integer", minimum=1, maximum=30,
                                       description="Revoke a badge once the runs of this "
                                                   "many successive days found no live "
                                                   "CTIMS entry justifying it."),
        "max_revocations_without_approval": Param(
            REVOCATIONS_WITHOUT_APPROVAL, type="integer", minimum=0,
            maximum=REVOCATIONS_WITHOUT_APPROVAL_MAX,
            description=f"More revocations than this in one run wait for an operator "
                        f"(Required actions); revocations an operator held before always "
                        f"ask. Above {REVOCATIONS_WITHOUT_APPROVAL} the decision is recorded "
                        f"with who triggered the run."),
        "accept_revocations": Param(False, type="boolean",
                                    description="Revoke above the threshold without asking "
                                                "(recorded with who triggered the run). "
                                                "Revocations an operator held before still "
                                                "ask."),
        "revoke_reviewed": Param([], type="array", items={"type": "integer"},
                                 title="Revoke these reviewed badges",
                                 description="Certification ids of badges listed as needing "
                                             "review (a reference table refuses them) that an "
                                             "operator decided to revoke: a manual run of the "
                                             "latest day plans them, recorded with who "
                                             "triggered it; the revocation gate still applies."),
        "accept_source_change": Param(False, type="boolean",
                                      description="The source guard stopped the nightly "
                                                  "changes and the CTIMS tables changed for "
                                                  "good: take tonight's census as the new "
                                                  "baseline (a manual run of the latest day; "
                                                  "recorded with who triggered it)."),
        "full_check": Param(False, type="boolean",
                            description="Check every issued badge tonight, not only those of "
                                        "the students whose entries or record changed (the "
                                        "check is full on Sunday's night anyway)."),
        "release_rejected_volume": Param(
            False, type="boolean",
            description="Release what the volume gate holds for this run's day(s): rows of "
                        "runs an operator rejected, that timed out or that a backfill "
                        "refused. This run issues them once; recorded with who triggered "
                        "it."),
        "suppress_revoke_notification_email": Param(
            False, type="boolean",
            description="Ask Credly not to email earners whose badge is revoked."),
        "program_launch": Param(PROGRAM_LAUNCH.isoformat(), type="string", format="date",
                                description="Tests before this day earn no badge "
                                            "(before_program_launch)."),
    },
)
def credly_badge_issuance():
    # Task bodies import the package lazily: parsing this file must stay fast and offline.

    @task(task_id=TaskId.EXTRACT)
    def extract() -> dict:
        from badging.airflow import tasks

        return tasks.extract(get_current_context())

    @task(task_id=TaskId.VALIDATE)
    def validate() -> dict:
        from badging.airflow import tasks

        return tasks.validate(get_current_context())

    # A branch: the tasks this run has no work for (RunInfo.idle_tasks: sync, check and
    # lists in backfills, ...) are skipped here, visibly, and start no process.
    # After the volume gate's check, or its approval when it asked (approval_gate).
    @task.branch(task_id=TaskId.DECIDE_ELIGIBILITY, trigger_rule="none_failed_min_one_success")
    def decide_eligibility() -> list[str]:
        from badging.airflow import tasks

        return tasks.decide_eligibility(get_current_context())

    # In the credly_api pool: plan reads Credly (each template it will issue, and a history
    # load's badge list), one slot's `concurrency` calls at most (config/pools.json).
    @task(task_id=TaskId.PLAN, pool="credly_api", execution_timeout=PLAN_TIMEOUT)
    def plan() -> list[dict]:
        from badging.airflow import tasks

        return tasks.plan(get_current_context())

    @task(task_id=TaskId.ISSUE, pool="credly_api", map_index_template="{{ batch_label }}",
          retries=4,
          retry_delay=timedelta(minutes=1), max_retry_delay=timedelta(minutes=15),
          execution_timeout=ISSUE_TIMEOUT)
    def issue(batch: dict) -> dict:
        from badging.airflow import tasks

        return tasks.issue(get_current_context(), batch)

    # After a synced ledger, or none: decide_eligibility skips sync_credly in a dry run, which
    # still checks (it audits would_revoke). A failed sync stops the check.
    @task(task_id=TaskId.CHECK_BADGES, retries=1, trigger_rule="none_failed_min_one_success")
    def check_badges() -> dict:
        from badging.airflow import tasks

        return tasks.check_badges(get_current_context())

    # After the revocation gate's check, or its approval when it asked (approval_gate).
    @task(task_id=TaskId.REVOKE, pool="credly_api", retries=4,
          trigger_rule="none_failed_min_one_success",
          retry_delay=timedelta(minutes=1), max_retry_delay=timedelta(minutes=15),
          execution_timeout=ISSUE_TIMEOUT)
    def revoke() -> dict:
        from badging.airflow import tasks

        return tasks.revoke(get_current_context())

    # Before check_badges: a badge someone revoked or deleted in Credly is `revoked` in the
    # ledger before the check could plan the pipeline's own revoke of it. Beside issue (the
    # day's new badges are pending: the next run reads them); all_done: a day whose rows
    # failed still has earlier badges worth reading.
    @task(task_id=TaskId.SYNC_CREDLY, pool="credly_api", trigger_rule="all_done", retries=2,
          retry_delay=timedelta(minutes=1), max_retry_delay=timedelta(minutes=15),
          execution_timeout=SYNC_TIMEOUT)
    def sync_credly() -> dict:
        from badging.airflow import tasks
        return tasks.sync_credly(get_current_context())

    # A branch: it follows notify_sites only in a run that sends lists (RunInfo.idle_tasks);
    # its summary goes to XCom under tasks.SUMMARY_KEY.
    @task.branch(task_id=TaskId.REPORT, trigger_rule="all_done", retries=1)
    def report() -> list[str]:
        from badging.airflow import tasks

        return tasks.report(get_current_context())

    # After report whatever happened (a report that failed chose nothing: notify_sites then
    # decides for itself): a mail problem is recorded, never red.
    @task(task_id=TaskId.NOTIFY_SITES, trigger_rule="all_done", retries=1)
    def notify_sites() -> dict:
        from badging.airflow import tasks

        return tasks.notify_sites(get_current_context())

    @task(task_id=TaskId.FAIL_RUN, trigger_rule="one_failed", retries=0)
    def fail_run_if_a_task_failed() -> None:
        # `report` runs whatever happened upstream and so would turn the run green on its
        # own; this leaf keeps the run red when any task failed, and tells the operators.
        from badging.airflow import tasks

        tasks.fail_run(get_current_context())

    staged, validated = extract(), validate()
    decided, batches = decide_eligibility(), plan()
    gate = approval_gate(Gate.VOLUME, check=volume_check, accept_param="accept_volume",
                         response_timeout=VOLUME_GATE_TIMEOUT, leads_to=decided)
    issued = issue.expand(batch=batches)
    checked, revoked = check_badges(), revoke()
    revocation_gate = approval_gate(
        Gate.REVOCATION, check=revocation_check, accept_param="accept_revocations",
        response_timeout=REVOCATION_GATE_TIMEOUT, leads_to=revoked, stops_run=False)
    synced = sync_credly()
    summary, notified = report(), notify_sites()
    staged >> validated >> gate
    decided >> [batches, synced, checked]
    synced >> checked >> revocation_gate
    [issued, revoked] >> summary >> notified
    # The watcher sees every other task of the DAG, whatever is added later.
    watcher = fail_run_if_a_task_failed().operator
    watcher.set_upstream([t for t in watcher.dag.tasks if t is not watcher])


alerts.without_deadline_in_dag_test(credly_badge_issuance())
