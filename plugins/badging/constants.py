"""Ledger states, audit events and ineligibility reasons: the project's one vocabulary."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """`badging.issuance.state`: where one badge is in its life."""

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
    FAILED = "failed"
    REVOKED = "revoked"
    WOULD_ISSUE = "would_issue"
    RETRY_LATER = "retry_later"


# Exactly one of these closes a staged row's story within a run.
TERMINAL_EVENTS = frozenset({
    Event.QUARANTINED,
    Event.INELIGIBLE,
    Event.ISSUED,
    Event.ALREADY_ISSUED,
    Event.FAILED,
    Event.WOULD_ISSUE,
})


class Reason(StrEnum):
    """Why a validated row earns no badge, in the order the rules are applied."""

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


# The rules eligibility.sql applies, in its order; the SQL and this tuple must agree.
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
