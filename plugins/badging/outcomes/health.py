"""The templates' health and the Credly token's: what stops badges before anyone notices.

Judged by the report task (outcomes.keep) from its CTIMS copy, the ledger's templates and, in
runs that may call Credly, Credly's template list; stored in badging.template_finding, new
findings mailed to the operators (alerts.alert_template_health), shown on the console.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any


class TemplateProblem(StrEnum):
    """`badging.template_finding.problem` (docs/outcomes.md, "Template health")."""

    # CTIMS approves the assessment today, its vendor does not badge it, and no active
    # template badges it: every entry of it is ineligible (no_badge_template).
    NO_TEMPLATE = "no_template"
    # The assessment's template is archived in Credly: Credly refuses its badges.
    ARCHIVED = "archived"
    # Credly has no template of that id (deleted, or a typo in badge_templates).
    DELETED = "deleted"
    # Credly's own duplicate check is off for it: plan refuses to issue it (docs/exactly-once.md).
    ALLOWS_DUPLICATES = "allows_duplicates"
    # The vendor started badging an assessment the agency badged: new entries are ineligible
    # (vendor_badge), and the badges issued stand for a person to review.
    VENDOR_BADGES = "vendor_badges"


# Judged from what the report reads of Credly; kept as they were when Credly cannot be read.
CREDLY_PROBLEMS = (TemplateProblem.ARCHIVED, TemplateProblem.DELETED,
                   TemplateProblem.ALLOWS_DUPLICATES)
LEDGER_PROBLEMS = (TemplateProblem.NO_TEMPLATE, TemplateProblem.VENDOR_BADGES)

# What the console and the alert say to do about each.
ACTIONS = {
    TemplateProblem.NO_TEMPLATE: "Create the badge template in Credly and add it to "
                                 "badging.badge_templates, or take the assessment off the list.",
    TemplateProblem.ARCHIVED: "Restore the template in Credly, or point the assessment at its "
                              "successor in badging.badge_templates.",
    TemplateProblem.DELETED: "Point the assessment at an existing template in "
                             "badging.badge_templates.",
    TemplateProblem.ALLOWS_DUPLICATES: "Turn allow_duplicate_badges off in Credly.",
    TemplateProblem.VENDOR_BADGES: "Switch the template off (badge_templates.active) and review "
                                   "the badges already issued.",
}


@dataclass(frozen=True)
class Finding:
    """One problem of one assessment; `new` when this report found it first."""

    problem: str
    assessment_code: str
    credly_template_id: str | None
    detail: str
    new: bool = False

    @property
    def action(self) -> str:
        return ACTIONS[TemplateProblem(self.problem)]


def _approved(row: dict[str, Any], today: date) -> bool:
    start, end = row.get("approved_from"), row.get("approved_to")
    return bool(row.get("in_ctims")) and (start is None or start <= today) and (
        end is None or today <= end)


def judge(assessments: Iterable[dict[str, Any]], listed: list[dict[str, Any]] | None,
          today: date) -> list[Finding]:
    """The findings of today, from outcomes/health_assessments.sql's rows and Credly's
    template list (None when it could not be read: its problems are not judged).

    Only active templates are judged against Credly: a switched-off one badges nothing.
    """
    credly = {str(t.get("id")): t for t in listed or ()}
    found = []
    for row in assessments:
        code, template = row["assessment_code"], row.get("credly_template_id")
        active = bool(row.get("active")) and template
        if _approved(row, today) and not row.get("vendor_issues_badge") and not active:
            found.append(Finding(TemplateProblem.NO_TEMPLATE, code, template,
                                 f"approved since {row.get('approved_from')}"
                                 + ("; its template is switched off" if template else "")))
        if row.get("vendor_badge_since") and row.get("vendor_issues_badge"):
            found.append(Finding(TemplateProblem.VENDOR_BADGES, code, template,
                                 f"vendor badges it since {row['vendor_badge_since']:%Y-%m-%d}"))
        if listed is None or not active:
            continue
        held = credly.get(str(template))
        if held is None:
            found.append(Finding(TemplateProblem.DELETED, code, template,
                                 "not in Credly's template list"))
            continue
        if str(held.get("state") or "").lower() == "archived":
            found.append(Finding(TemplateProblem.ARCHIVED, code, template, "archived in Credly"))
        if held.get("allow_duplicate_badges"):
            found.append(Finding(TemplateProblem.ALLOWS_DUPLICATES, code, template,
                                 "allow_duplicate_badges is on"))
    return found


@dataclass(frozen=True)
class TokenAge:
    """The Credly token's age against the agency's rotation period (either may be unknown)."""

    created_on: date | None
    rotation_days: int | None
    today: date

    @property
    def age_days(self) -> int | None:
        return None if self.created_on is None else (self.today - self.created_on).days

    @property
    def days_left(self) -> int | None:
        """Days until rotation is due (negative: overdue); None if either is unknown."""
        if self.age_days is None or self.rotation_days is None:
            return None
        return self.rotation_days - self.age_days

    def sentence(self) -> str:
        if self.created_on is None:
            return ("The credly_api connection does not record when its token was created "
                    "(extra token_created_on).")
        text = f"Token created {self.created_on:%Y-%m-%d}, {self.age_days} days ago"
        if self.days_left is None:
            return text + "; no rotation period set (extra token_rotation_days)."
        if self.days_left < 0:
            return text + f": rotation overdue by {-self.days_left} days."
        return text + f"; rotation due in {self.days_left} days."


def token_facts(extra: dict[str, Any]) -> tuple[date | None, int | None]:
    """(created_on, rotation_days) from the credly_api connection's extra; unreadable values
    are unknown, not an error (the report must not fail on them)."""
    created, days = extra.get("token_created_on"), extra.get("token_rotation_days")
    try:
        created_on = date.fromisoformat(str(created)[:10]) if created else None
    except ValueError:
        created_on = None
    try:
        rotation = int(days) if days not in (None, "") else None
    except (TypeError, ValueError):
        rotation = None
    return created_on, rotation if rotation is None or rotation > 0 else None
