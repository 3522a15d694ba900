"""The project's one vocabulary: names, dates and the states, events, reasons and outcomes.

Light on purpose (standard library only): the DAG file imports it at parse time.
"""

from __future__ import annotations

import os
from datetime import date
from enum import StrEnum
from zoneinfo import ZoneInfo

# The DAG's id (a contract name: operators, the API and the tests use it).
DAG_ID = "credly_badge_issuance"

# Oklahoma's day: data intervals, test dates and Credly's issued_at are all in this zone
# (docs/time.md).
AGENCY_TIMEZONE = "America/Chicago"
AGENCY_TZ = ZoneInfo(AGENCY_TIMEZONE)

# The agency began issuing Credly badges in December 2022: the default of the DAG's
# `program_launch` param and its start date (docs/eligibility.md).
PROGRAM_LAUNCH = date(2022, 12, 1)


class State(StrEnum):
    """`badging.issuance.state`: where one badge is in its life (docs/ledger.md)."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    ISSUED = "issued"
    FAILED = "failed"
    REVOKED = "revoked"


class Event(StrEnum):
    """`badging.audit_log.event`: one decision or attempt."""

    QUARANTINED = "quarantined"
    INELIGIBLE = "ineligible"
    PLANNED = "planned"
    ISSUE_ATTEMPT = "issue_attempt"
    ISSUED = "issued"
    ALREADY_ISSUED = "already_issued"
    # Credly already held the badge (a history load; docs/history-load.md): recorded, not sent.
    ADOPTED = "adopted"
    # Credly holds a badge at the student's address that adoption may not take (`reason` an
    # ADOPTION_REASONS member): a person decides; the badge goes on to issue, which Credly
    # refuses as a duplicate and the lookup fails for the same reason. Not terminal.
    NOT_ADOPTED = "not_adopted"
    FAILED = "failed"
    REVOKED = "revoked"
    WOULD_ISSUE = "would_issue"
    RETRY_LATER = "retry_later"
    # A staged row an operator's volume decision holds (rejected, unanswered, refused in a
    # backfill, or still waiting for its answer): nothing is issued for it until the day is
    # released (badging/gates/volume.py; reason held_by_decision).
    HELD = "held"
    # A gate's decision on the run (badging/gates/approval.py); `reason` names the gate.
    APPROVAL_NOT_NEEDED = "approval_not_needed"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPROVAL_TIMED_OUT = "approval_timed_out"
    ACCEPTED_BY_PARAM = "accepted_by_param"
    REFUSED_UNATTENDED = "refused_unattended"
    # An operator released the rows a volume decision held (param release_rejected_volume):
    # one row per released decision, about the run, with who and when in `detail`.
    VOLUME_RELEASED = "volume_released"
    # A badge's life after issuance (badging/lifecycle/, docs/lifecycle.md); `reason` is a
    # RevokeReason or an eligibility Reason.
    UNJUSTIFIED = "unjustified"
    JUSTIFIED_AGAIN = "justified_again"
    REVOKE_PLANNED = "revoke_planned"
    REVOKE_CANCELLED = "revoke_cancelled"
    REVOKE_HELD = "revoke_held"
    REVOKE_ATTEMPT = "revoke_attempt"
    REVOKE_FAILED = "revoke_failed"
    WOULD_REVOKE = "would_revoke"
    REISSUE_PLANNED = "reissue_planned"
    # What the check finds (badging.badge_finding), audited when it starts: a badge that
    # became unjustified only through a reference table waits for a person; a student whose
    # name or email is blank or malformed in CTIMS is data to fix, not a correction; a new
    # valid name or email starts its grace.
    NEEDS_REVIEW = "needs_review"
    RECIPIENT_UNKNOWN = "recipient_unknown"
    RECIPIENT_CHANGED = "recipient_changed"
    # An operator asked to revoke a badge that needed review (param revoke_reviewed).
    REVOKE_REQUESTED = "revoke_requested"
    # The source guard found a CTIMS table changed beyond its thresholds (`reason`: blocked),
    # or an operator took the changed tables as the new baseline (accept_source_change).
    SOURCE_GUARD_TRIPPED = "source_guard_tripped"
    SOURCE_CHANGE_ACCEPTED = "source_change_accepted"
    # Name and email corrections of an issued badge (docs/recipient-corrections.md).
    REPLACE_PLANNED = "replace_planned"
    MOVE_PLANNED = "move_planned"
    REPLACED = "replaced"
    EMAIL_MOVED = "email_moved"
    EMAIL_CHANGED_AFTER_ACCEPTANCE = "email_changed_after_acceptance"
    WOULD_REPLACE = "would_replace"
    WOULD_MOVE = "would_move"
    # The sync with Credly (badging/lifecycle/sync.py, docs/credly-sync.md): a badge's Credly
    # state changed; `detail` holds from, to and by (credly, or pipeline for its own revoke).
    CREDLY_STATE_CHANGED = "credly_state_changed"
    # A later passing entry renews an expired badge: a new ledger row, the next certification
    # period, is planned for it (docs/ledger.md, "Certification periods"); `detail` holds the
    # period and the earlier period's issuance id. Not terminal: the row is issued as usual.
    RENEWAL_PLANNED = "renewal_planned"


class Gate(StrEnum):
    """A judgement an operator may be asked for in the UI (badging/gates/approval.py)."""

    VOLUME = "volume"
    REVOCATION = "revocation"


# What a gate records: `badging.approval.decision` and the audit event are the same name.
GATE_DECISIONS = (
    Event.APPROVAL_NOT_NEEDED,
    Event.APPROVED,
    Event.REJECTED,
    Event.APPROVAL_TIMED_OUT,
    Event.ACCEPTED_BY_PARAM,
    Event.REFUSED_UNATTENDED,
)
# The decisions after which the run goes on.
GATE_PASSES = frozenset({Event.APPROVAL_NOT_NEEDED, Event.APPROVED, Event.ACCEPTED_BY_PARAM})

# What `airflow dags test` records as the user who triggered its run (DAG.test()): the
# gates then warn at once when no API server can take an operator's answer.
DAG_TEST_USER = "dag_test"
# The words that start that warning (badging/gates/approval.py); `devstack run-dag` echoes it.
NOBODY_CAN_ANSWER = "nobody can answer this gate from here"

# The revocation gate: more revocations than this in one run wait for an operator (the
# `max_revocations_without_approval` param's default). The param may lower it freely, and
# raise it up to REVOCATIONS_WITHOUT_APPROVAL_MAX only, recorded with who triggered the run.
REVOCATIONS_WITHOUT_APPROVAL = 10
REVOCATIONS_WITHOUT_APPROVAL_MAX = 100


# The outcome pipeline/eligibility/counts.sql names a row that earns a badge (no reason).
ELIGIBLE = "eligible"


class RevocationCount(StrEnum):
    """The keys of `run_summary.revocations` (pipeline/report/revocations.sql): what a run did
    after issuance, read by the run summary and the correction report."""

    UNJUSTIFIED = "unjustified"
    REVOKED = "revoked"
    HELD = "held"
    FAILED = "failed"
    WOULD_REVOKE = "would_revoke"
    REISSUED = "reissued"
    REPLACED = "replaced"
    KEPT = "kept"
    WOULD_CORRECT = "would_correct"
    NEEDS_REVIEW = "needs_review"
    RECIPIENT_UNKNOWN = "recipient_unknown"
    BLOCKED = "blocked"
    BY_SITE = "by_site"


# Exactly one of these closes a staged row's story within a run.
TERMINAL_EVENTS = frozenset({
    Event.QUARANTINED,
    Event.INELIGIBLE,
    Event.ISSUED,
    Event.ALREADY_ISSUED,
    Event.ADOPTED,
    Event.FAILED,
    Event.WOULD_ISSUE,
    Event.HELD,
})

# The decisions validate, eligibility and plan write into `staged_certification.decision`
# (the audit log is written from them).
DECISIONS = (
    Event.QUARANTINED,
    Event.INELIGIBLE,
    Event.PLANNED,
    Event.ALREADY_ISSUED,
    Event.WOULD_ISSUE,
    Event.HELD,
)


class Reason(StrEnum):
    """`badging.audit_log.reason`: why a row earns no badge (or ended as it did)."""

    DELETED = "deleted"
    NOT_APPROVED_ASSESSMENT = "not_approved_assessment"
    ASSESSMENT_NOT_EFFECTIVE = "assessment_not_effective"
    VENDOR_BADGE = "vendor_badge"
    NO_ALIGNED_PROGRAM = "no_aligned_program"
    BEFORE_PROGRAM_LAUNCH = "before_program_launch"
    NO_BADGE_TEMPLATE = "no_badge_template"
    OPTED_OUT = "opted_out"
    # Decided against the ledger at plan time, after the CTIMS rules above.
    DUPLICATE_ENTRY = "duplicate_entry"
    PREVIOUSLY_FAILED = "previously_failed"
    ALREADY_ISSUED = "already_issued"
    # Recorded by issue for a badge another run failed for good while this run waited.
    FAILED_IN_OTHER_RUN = "failed_in_other_run"
    # Decided against the validity at plan time (docs/eligibility.md): the badge the row earns
    # would already be expired when issued (test date + validity before now), so it is not
    # issued; or the row renews a badge still live, and its renewal is issued the night after
    # that badge expires (Credly refuses a second live badge of a template for one earner).
    EXPIRED_BEFORE_ISSUE = "expired_before_issue"
    RENEWS_AT_EXPIRY = "renews_at_expiry"
    # Why an issued badge lost its justification (lifecycle/check/justification.sql), when it is
    # not a rule its entry breaks now: the entry vanished (hard-deleted), or now names
    # another student or assessment.
    ENTRY_REMOVED = "entry_removed"
    ENTRY_REASSIGNED = "entry_reassigned"
    # Why an issued, justified badge is changed (lifecycle/check/plan_corrections.sql).
    NAME_CORRECTED = "name_corrected"
    EMAIL_CORRECTED = "email_corrected"
    # Why CTIMS names no usable recipient for a badge now (lifecycle/recipients.py): unknown,
    # not changed; the badge stays and the site is asked to fix the student's record.
    EMAIL_BLANK = "email_blank"
    EMAIL_MALFORMED = "email_malformed"
    NAME_BLANK = "name_blank"
    # Why a planned revocation was cancelled by the sync: someone revoked or deleted the
    # badge in Credly first (lifecycle/sync/apply.sql).
    REVOKED_IN_CREDLY = "revoked_in_credly"
    DELETED_IN_CREDLY = "deleted_in_credly"
    # Why a badge Credly holds at the student's address is not theirs to adopt, or to take
    # for a duplicate (credly.matching.earners_badge; docs/history-load.md): it is under
    # another earner id; it has none and another student uses the address; it has none and
    # names someone else (an older sibling at the family address).
    OTHER_EARNER = "other_earner"
    SHARED_EMAIL = "shared_email"
    NAME_MISMATCH = "name_mismatch"
    # Why a staged row is held: a volume decision of an earlier run (rejected, unanswered,
    # refused in a backfill, or not answered yet) covers this version of the row.
    HELD_BY_DECISION = "held_by_decision"


# The rules pipeline/eligibility/decide.sql applies, in its order; the SQL and this tuple must agree
# (tests/unit/badging/core/test_constants.py reads the SQL).
ELIGIBILITY_REASONS = (
    Reason.DELETED,
    Reason.NOT_APPROVED_ASSESSMENT,
    Reason.ASSESSMENT_NOT_EFFECTIVE,
    Reason.VENDOR_BADGE,
    Reason.NO_ALIGNED_PROGRAM,
    Reason.BEFORE_PROGRAM_LAUNCH,
    Reason.NO_BADGE_TEMPLATE,
    Reason.OPTED_OUT,
)

# The reasons pipeline/plan/classify.sql gives, against the ledger and the validities.
PLAN_REASONS = (Reason.ALREADY_ISSUED, Reason.DUPLICATE_ENTRY, Reason.PREVIOUSLY_FAILED,
                Reason.EXPIRED_BEFORE_ISSUE, Reason.RENEWS_AT_EXPIRY)

# The reasons issue records for a badge another run settled (ledger.record_outcome_of_other_run).
ISSUE_REASONS = (Reason.ALREADY_ISSUED, Reason.FAILED_IN_OTHER_RUN)

# The reasons of a lost justification besides the rules (lifecycle/check/justification.sql).
LIFECYCLE_REASONS = (Reason.ENTRY_REMOVED, Reason.ENTRY_REASSIGNED)

# The reasons of a name or email correction (lifecycle/check/plan_corrections.sql).
CORRECTION_REASONS = (Reason.NAME_CORRECTED, Reason.EMAIL_CORRECTED)

# Why a student's name or email in CTIMS is unknown rather than corrected.
RECIPIENT_PROBLEMS = (Reason.EMAIL_BLANK, Reason.EMAIL_MALFORMED, Reason.NAME_BLANK)

# The reasons the sync cancels a planned revocation with (lifecycle/sync/apply.sql).
SYNC_REASONS = (Reason.REVOKED_IN_CREDLY, Reason.DELETED_IN_CREDLY)

# The reasons plan's adoption leaves a badge Credly holds for a person (`not_adopted`,
# badging/lifecycle/adoption.py); bound from Python, never SQL literals.
ADOPTION_REASONS = (Reason.OTHER_EARNER, Reason.SHARED_EMAIL, Reason.NAME_MISMATCH)
# The reason the volume gate holds a row with (gates/volume/hold.sql).
GATE_REASONS = (Reason.HELD_BY_DECISION,)


# What the earner reads in Credly beside a revoked badge.
REVOCATION_TEXT = "Certification record corrected by the issuing school"


class RevocationState(StrEnum):
    """`badging.revocation.revocation_state` (docs/lifecycle.md)."""

    PLANNED = "planned"
    HELD = "held"
    IN_FLIGHT = "in_flight"
    REVOKED = "revoked"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # The ends of a correction (migration 007): replaced by a badge with the corrected name;
    # revoked and the ledger row pending again for the corrected address; an accepted badge
    # whose address changed, left alone.
    REPLACED = "replaced"
    MOVED = "moved"
    KEPT = "kept"


class CredlyState(StrEnum):
    """`badging.issuance.credly_state`: the badge's state in Credly as the last sync saw it
    (docs/credly-sync.md). Pending and accepted badges are live (read again by every sync);
    the others are final."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"
    # Credly answers 404: deleted there (a data-removal request, or by hand).
    DELETED = "deleted"


# Read by every sync; the rest are final and never read again.
LIVE_CREDLY_STATES = (CredlyState.PENDING, CredlyState.ACCEPTED)
# The states Credly's list can be filtered by that end a badge's life there.
LISTED_FINAL_CREDLY_STATES = (CredlyState.REJECTED, CredlyState.REVOKED, CredlyState.EXPIRED)
# Gone from the earner: the ledger row becomes `revoked` (by someone else, when the pipeline
# has no revocation of it).
GONE_CREDLY_STATES = frozenset({CredlyState.REVOKED, CredlyState.DELETED})

# Badges unaccepted this many days after issue are listed per site (docs/credly-sync.md).
UNACCEPTED_AFTER_DAYS = 30

# A later passing entry renews a badge (a new certification period) when the badge has expired
# by the entry's test date or expires at most this many days after it (docs/ledger.md).
RECERTIFICATION_WINDOW_DAYS = 90
# The morning lists' monthly section: badges expiring within this many days (Credly mails the
# earner 60 days before too; docs/notifications.md).
EXPIRING_WITHIN_DAYS = 60


class CorrectionAction(StrEnum):
    """`badging.revocation.action`: the Credly call a planned change of a badge makes."""

    REVOKE = "revoke"
    REPLACE = "replace"
    MOVE = "move"


class Outcome(StrEnum):
    """What became of one row in an issue batch: the counts an issue task returns."""

    ISSUED = "issued"
    ALREADY_ISSUED = "already_issued"
    FAILED = "failed"
    RETRY_LATER = "retry_later"
    # Another run holds it in flight: the batch waits for it, up to the lease.
    HELD_ELSEWHERE = "held_elsewhere"
    # Settled before this batch came to it (another run, or an earlier try of this one).
    SETTLED_EARLIER = "settled_earlier"
    # Not tried: the batch stopped on an authentication error or a refused template.
    NOT_ATTEMPTED = "not_attempted"
    # Swept in from another run, which holds it in flight: left to that run (a dead holder's
    # row is taken by a later sweep once its lease has passed).
    LEFT_TO_HOLDER = "left_to_holder"


class Delivery(StrEnum):
    """`badging.site_list.delivery`: where one site's morning list is (docs/notifications.md)."""

    PENDING = "pending"
    # Claimed and committed before the SMTP call; left so by a crash mid-send, and then
    # never sent again automatically (at most one list per site and day).
    SENDING = "sending"
    SENT = "sent"
    # The relay was down or refused the address: the next run that sends lists retries it.
    FAILED = "failed"


# A list is retried by this many runs at most (a week of nightly runs), then left failed.
SITE_LIST_MAX_ATTEMPTS = 7

# A scheduled run still running at 06:00 in Chicago pages the operators (docs/notifications.md):
# its logical date is 00:00 of the day it processes, and it starts 24 hours later. The
# environment may move the hour (BADGING_LATE_AFTER_HOURS; the tests use 24, which every
# nightly run has passed when it is created, so their lateness test does not hang on the clock).
LATE_AFTER_LOGICAL_DATE_HOURS = int(os.environ.get("BADGING_LATE_AFTER_HOURS", "30"))
# The time of day that is, as the alert says it.
LATE_AT = f"{LATE_AFTER_LOGICAL_DATE_HOURS % 24:02d}:00"

class TaskId(StrEnum):
    """The DAG's task ids (the gates' task groups are `<gate>_gate`, badging/gates/approval.py)."""

    EXTRACT = "extract"
    VALIDATE = "validate"
    DECIDE_ELIGIBILITY = "decide_eligibility"
    PLAN = "plan"
    ISSUE = "issue"
    SYNC_CREDLY = "sync_credly"
    CHECK_BADGES = "check_badges"
    REVOKE = "revoke"
    REPORT = "report"
    NOTIFY_SITES = "notify_sites"
    # The leaf that keeps a run red when any other task failed, and alerts the operators.
    FAIL_RUN = "fail_run_if_a_task_failed"


class RunType(StrEnum):
    """Airflow's run types (`dag_run.run_type`'s value), as this pipeline tells them apart."""

    SCHEDULED = "scheduled"
    MANUAL = "manual"
    BACKFILL = "backfill"
    OPERATOR_TRIGGERED = "operator_triggered"
    ASSET_TRIGGERED = "asset_triggered"
    ASSET_MATERIALIZATION = "asset_materialization"


RUN_TYPE_SCHEDULED = RunType.SCHEDULED
RUN_TYPE_BACKFILL = RunType.BACKFILL


class FindingKind(StrEnum):
    """`badging.badge_finding.kind`: what the check finds about a badge (docs/lifecycle.md)."""

    # Its own entries no longer earn it: revoked after the grace.
    UNJUSTIFIED = "unjustified"
    # Unjustified only through a reference table (enrollments, programs, sites, the approved
    # list, alignment, templates, opt-out): never revoked without a person.
    NEEDS_REVIEW = "needs_review"
    # A new valid name or email: replaced or moved after the grace.
    RECIPIENT_CHANGED = "recipient_changed"
    # A blank or malformed name or email: nothing changes; the site fixes the record.
    RECIPIENT_UNKNOWN = "recipient_unknown"
