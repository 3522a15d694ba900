"""How long a badge is valid and the moment it expires (docs/ledger.md, "Expiry").

The one implementation of the expiry arithmetic: plan, issue, the lifecycle check and the
corrections all compute a badge's `expires_at` here (SQL reads what Python computed). Standard
library only.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from badging.core.constants import AGENCY_TZ

# A badge is valid through the whole of its expiry day in Oklahoma: Credly is sent the last
# second of that Chicago day (docs/time.md).
END_OF_DAY = time(23, 59, 59)


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months, clamped to the target month's last day (as Postgres
    adds an interval): 2024-02-29 + 12 months is 2025-02-28, 2024-01-31 + 1 month 2024-02-29."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def end_of_day(day: date) -> datetime:
    """The last second of a Chicago day, timezone-aware (-0500 or -0600 as the day has it)."""
    return datetime.combine(day, END_OF_DAY, AGENCY_TZ)


@dataclass(frozen=True)
class Validity:
    """How long a badge of one assessment is valid after its test date.

    Exactly one of: `months` (the agency's setting, badging.assessment_validity), `days` (the
    Credly template's own default expiry, read from Credly's template list), `never`; or none
    of them: unknown (no agency setting and the template not read yet), when Credly is left
    to apply its template default and the pipeline decides nothing by expiry.
    """

    months: int | None = None
    days: int | None = None
    never: bool = False

    def __post_init__(self) -> None:
        given = sum((self.months is not None, self.days is not None, self.never))
        if given > 1:
            raise ValueError("a validity is months, days or never, not several")
        for name in ("months", "days"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"a validity's {name} must be at least 1, got {value}")

    @classmethod
    def resolve(cls, *, valid_months: int | None, never: bool | None, template_read: bool,
                template_days: int | None) -> Validity:
        """The validity in force for an assessment: the agency's setting when it has one,
        else its template's default as last read from Credly (no default: never), else
        unknown."""
        if never:
            return cls(never=True)
        if valid_months is not None:
            return cls(months=valid_months)
        if template_read:
            return cls(days=template_days) if template_days else cls(never=True)
        return cls()

    @property
    def known(self) -> bool:
        return self.never or self.months is not None or self.days is not None

    def expiry_day(self, test_date: date) -> date | None:
        """The last day a badge tested on `test_date` is valid; None: it never expires, or
        the validity is unknown."""
        if self.months is not None:
            return add_months(test_date, self.months)
        if self.days is not None:
            return test_date + timedelta(days=self.days)
        return None

    def expires_at(self, test_date: date) -> datetime | None:
        """The moment sent to Credly as `expires_at`: the end of the expiry day in Chicago."""
        day = self.expiry_day(test_date)
        return None if day is None else end_of_day(day)

    def expired(self, test_date: date, now: datetime) -> bool:
        """Whether a badge tested on `test_date` would be expired at `now` (never when it
        never expires or the validity is unknown)."""
        moment = self.expires_at(test_date)
        return moment is not None and now >= moment

    def describe(self) -> str:
        """For logs and pages: "24 months", "1095 days", "never", "template default"."""
        if self.months is not None:
            return f"{self.months} months"
        if self.days is not None:
            return f"{self.days} days"
        return "never" if self.never else "template default"
