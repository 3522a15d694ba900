"""
### Credly badges for Oklahoma CareerTech — daily

**Owner:** CareerTech data engineering · **Runs:** every night after midnight, America/Chicago,
for the day before (its data interval) · **Source:** CTIMS "Real-Time" certifications
(`ctims_db`, read only) · **Ledger:** `badging_db`, schema `badging` · **Credly:** `credly_api`

| task | what it does |
|---|---|
| `extract` | stages the Real-Time rows entered or corrected on the day, plus `lookback_days` before it (late rows) |
| `validate` | Great Expectations: `realtime_rows` (failing rows go to `badging.quarantine`), `realtime_rows_warnings` (reported only), `realtime_table` (columns, types). Fails the run (no retry) if more than `max_failed_share` of rows fail or a table check fails: a broken feed; the one-line reason is in the log and `run_summary.dq_reason` |
| `volume_gate` | `check` first holds the staged rows an earlier volume decision did not let through (`held`, reason `held_by_decision`: nothing is issued for them), then judges the rows no gate judged before (the day's, late rows, unjudged lookback rows) against the day's calendar-aware band and counts rows repeating already-entered certifications (a replayed feed). Outside the band or replay-like → `approve` waits in **Required actions** for an operator ("Volume of *day*: *n* rows — real?"; the form shows the count, the band and how it was computed, rows per site against their usual share, the duplicate share); otherwise `passed` at once |
| `decide_eligibility` | the agency's rules; every row not earning a badge gets one reason in `badging.audit_log`. Skips the tasks the run gives nothing to do, so they start no process: `sync_credly`, `check_badges` (and the revocation gate and `revoke` after it) and `notify_sites` in a backfill; `sync_credly` and `notify_sites` in a dry run; `notify_sites` in a history load or with `send_site_lists` off |
| `plan` | ledger rows `pending` (once per student and assessment, ever); with `adopt_existing`, records badges Credly already holds as `adopted` (reading Credly's list `concurrency` pages at a time); cuts the rest into batches. In pool `credly_api` (it reads Credly), 1 hour `execution_timeout` |
| `issue` | one mapped task per batch, in pool `credly_api`; each badge `in_flight` → `issued` / `failed` |
| `sync_credly` | (beside `issue`) brings every live badge's Credly state (`pending`, `accepted`, `rejected`, `revoked`, `expired`, deleted) into the ledger, reading Credly's badge list 50 a page (pool `credly_api`); a badge revoked or deleted in Credly by someone else is marked `revoked` in the ledger, never issued again, and listed in the report for a person to decide. Not in dry runs or backfills |
| `check_badges` | every issued badge against every live CTIMS row, under the source guard (every table the rules read against the last good night; beyond its thresholds nothing changes and the operators are mailed). A badge its own entries no longer earn for `revocation_grace_days` nights (and as many days of real time) gets a planned revocation; one only a reference table refuses is listed for a person (`needs_review`), never revoked by itself; a new valid name or email held as long gets a planned `replace` / `move`; a blank one changes nothing. Only nightly runs count (scheduled, or manual of the latest day); others audit `would_revoke` / `would_replace` / `would_move`; backfills skip it. A badge the pipeline revoked that is earned again is issued again (docs/lifecycle.md) |
| `revocation_gate` | more than `max_revocations_without_approval` to revoke, or any an operator held before → `approve` waits in **Required actions** (per site and reason); Reject or no answer in 12 h holds them, and every later run asks again; the rest of the run goes on |
| `revoke` | revokes the planned badges in Credly (pool `credly_api`), each once, re-reading CTIMS first (a change whose cause moved again is cancelled); replaces a badge whose name was corrected; moves an unaccepted badge whose email was corrected (new badge first, then the old one revoked) and leaves an accepted one alone (`email_changed_after_acceptance`) |
| `report` | `badging.run_summary`, the summary table in its log and the correction report for technology centers under `BADGING_REPORT_DIR` (the run's Data Docs pages come from `validate`; `report` writes them only if `validate` could not); red if a badge failed or is still pending, or a revocation failed for good |
| `notify_sites` | mails each technology center with entries to fix its list (ids, reason, what to do), once per site and day, through `smtp_default`; retries lists an earlier run could not deliver. Never red for a mail problem (`badging.site_list` records it) |
| `fail_run_if_a_task_failed` | red when any other task is: mails the operators one alert naming the red task and its reason |

**Re-running is safe.** The ledger issues each badge once: clearing tasks, re-running a day,
overlapping backfills and killed workers never send a badge twice. The design (ledger states,
exactly-once protocol, eligibility rules, days and time zone) is in the repository's `docs/`.

**Alerts.** A red run mails the operators (`smtp_default`, extra `alert_to`) the red task, its
one-line reason and a link to the run; a scheduled run still going at 06:00 America/Chicago
mails a lateness alert (backfills and manual runs never page). Site lists go out after
scheduled and manual runs (param `send_site_lists`), never after backfills or dry runs; a
site is switched off in `badging.site_contact.lists_enabled`.

**Manual run:** leave `date` empty to process the run's data interval (or, without one,
yesterday in Chicago); set it to process that day. `dry_run` does everything but Credly
calls and ledger changes and audits `would_issue`.

**History load** (a new deployment, years of entries, many badged already by hand or by
Credly's bulk upload): one manual run with `date` (first day), `date_to` (last day),
`adopt_existing` and `accept_volume` on (a range mails no site lists; the correction
report lists its entries to fix).
`plan` reads Credly's badges once and records those it already holds as `adopted` (by
issuer_earner_id, then by email when no other student shares it and the name Credly issued
it to is the student's); only the rest is issued. Every adopted badge has an `adopted` row in
`badging.audit_log`. A badge Credly holds at the address that is not surely the student's
(`not_adopted`: `name_mismatch`, `shared_email`, `other_earner`) is listed in the run's
correction report; its row fails at `issue` (Credly refuses a second badge), and the run is
red until a person decides whose it is.

**Corrections.** A badge stays while at least one live CTIMS entry of the student and
assessment earns it. An entry deleted, hard-deleted, moved to another student or assessment,
or whose test date was corrected out of the rules, for `revocation_grace_days` nights in a
row, loses its badge (the earner reads "Certification record corrected by the issuing
school"); deleted and entered again within the grace, nothing happens. A badge refused only
because a reference table changed (enrollments, programs, sites, the approved list,
alignment) is never revoked by the pipeline: it is listed as `needs_review`; to revoke it,
trigger a manual run of the latest day with its certification id in `revoke_reviewed`.
Held revocations are asked again every run, whatever the threshold or `accept_revocations`,
and revoked only on an approval: **Approve** when the corrections are real, **Reject** when
the feed looks wrong.

**Volume gate.** A day above its band or with many repeated certifications waits for a
person: **Approve** if the volume is real (the day proceeds); **Reject** if the feed looks
broken or replayed — the run ends red, nothing issued. No answer within 20 hours counts as
Reject. A refusal binds: every later run (scheduled, manual, backfill, history load) holds
those rows and issues nothing for them, until an operator triggers the day with
`release_rejected_volume` (recorded: who, when); a corrected row is judged anew. To let a
known-good day through without waiting (a backfill of history), trigger it with
`accept_volume` on. Backfill runs never wait: outside the band they end red at
`volume_gate.check` unless `accept_volume` is set. Who may answer: the Variable
`badging_approvers` (empty: anyone who may edit the DAG). Every decision, who and when, is in
`badging.approval`, `badging.audit_log` and `run_summary.approvals`.

**When it is red**, read the failed task's last log line:
- `volume_gate.approve` — an operator rejected the day's volume (or nobody answered): fix
  the feed if it was replayed, then clear `extract` (downstream included); if the volume was
  real after all, clear `volume_gate.check` and approve, or trigger the day with
  `release_rejected_volume`.
- `volume_gate.check` — a backfill day outside its band: trigger the day with
  `release_rejected_volume` if the history is known to be good. "release_rejected_volume: …
  before this run's window": trigger it with the `lookback_days` the message names.
- `validate` — too many rows failed expectations, or the table checks failed (columns,
  types): the CTIMS feed is broken. The correction report
  and Data Docs show what; fix the feed, then clear `extract` (downstream included).
- `plan` — "Credly template … allows duplicate badges": turn `allow_duplicate_badges` off on
  that template in Credly (the ledger relies on Credly refusing a second badge), then clear.
- `issue` — badges still retryable after all tries (Credly down or throttling): clear the
  failed `issue` tasks. A 401/403 means the token in `credly_api` was revoked or expired:
  rotate it, then clear. "Credly refused N badges of template …" (archived, not active, not
  found): fix the template in Credly or `badging.badge_templates`, then clear; its badges
  wait as pending, none failed. `AirflowTaskTimeout`: a try ran past its 2 hours (a hung
  network or database); the retry takes the rows again. A lock timeout or statement timeout
  in any task's log is a database session limit (repository `docs/bounds.md`): something
  held a row or ran far too long; the retry usually passes.
- `sync_credly` — Credly unreachable or throttling past the retries: nothing was written (the
  ledger keeps the last states) and `check_badges` waits for the next run; clear the task
  once Credly answers. A 401/403: rotate the token in `credly_api`, then clear.
- `report` — names what is wrong: failed badges (`audit_log` event `failed`, `last_error` in
  `badging.issuance`; fix, then re-run with `retry_failed`), badges still pending, or badges
  open in the ledger for more than 3 days (every run retries them; `last_error` says why).
  `ReportNotWritten`: `BADGING_REPORT_DIR` could not be written (the summary and the purge
  of old staging are done): fix the folder, then clear `report`.
- No red task, the rest skipped — the run passed its 36-hour `dagrun_timeout`: clear it.

**Quarantine check `text_valid_utf8`:** CTIMS holds bytes in that entry that are not UTF-8
text; the row is held back, the day goes on, and the correction report asks the site to
retype it.
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
    @task.branch(task_id=TaskId.DECIDE_ELIGIBILITY)
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

    @task(task_id=TaskId.REVOKE, pool="credly_api", retries=4,
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

    @task(task_id=TaskId.REPORT, trigger_rule="all_done", retries=1)
    def report() -> dict:
        from badging.airflow import tasks

        return tasks.report(get_current_context())

    # After report whatever happened: a mail problem is recorded, never red.
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
    gate = approval_gate(Gate.VOLUME, check=volume_check, accept_param="accept_volume",
                         response_timeout=VOLUME_GATE_TIMEOUT)
    decided, batches = decide_eligibility(), plan()
    issued = issue.expand(batch=batches)
    checked = check_badges()
    revocation_gate = approval_gate(
        Gate.REVOCATION, check=revocation_check, accept_param="accept_revocations",
        response_timeout=REVOCATION_GATE_TIMEOUT, stops_run=False)
    revoked = revoke()
    synced = sync_credly()
    summary, notified = report(), notify_sites()
    staged >> validated >> gate >> decided >> [batches, synced, checked, notified]
    synced >> checked >> revocation_gate >> revoked
    [issued, revoked] >> summary >> notified
    # The watcher sees every other task of the DAG, whatever is added later.
    watcher = fail_run_if_a_task_failed().operator
    watcher.set_upstream([t for t in watcher.dag.tasks if t is not watcher])


alerts.without_deadline_in_dag_test(credly_badge_issuance())
