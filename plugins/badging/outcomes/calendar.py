"""School years, career clusters and the days-to-accept histogram (docs/outcomes.md).

Standard library only: the console and the report task both import it, and its rules are the
SQL's (migration 014_outcomes.sql), held together by tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from badging.core.constants import AGENCY_TZ

# The agency's year runs July to June (its fiscal and school year).
SCHOOL_YEAR_STARTS = 7

# CIP 2020's two-digit series (NCES, Classification of Instructional Programs): a program's
# career cluster here is the series its CIP code belongs to. Oklahoma's 15 career clusters
# group programs by these families; a crosswalk to them could replace this table, the codes
# stay the same.
CIP_FAMILIES = {
    "01": "Agricultural/Animal/Plant/Veterinary Science and Related Fields",
    "03": "Natural Resources and Conservation",
    "04": "Architecture and Related Services",
    "05": "Area, Ethnic, Cultural, Gender, and Group Studies",
    "09": "Communication, Journalism, and Related Programs",
    "10": "Communications Technologies/Technicians and Support Services",
    "11": "Computer and Information Sciences and Support Services",
    "12": "Culinary, Entertainment, and Personal Services",
    "13": "Education",
    "14": "Engineering",
    "15": "Engineering/Engineering-Related Technologies/Technicians",
    "16": "Foreign Languages, Literatures, and Linguistics",
    "19": "Family and Consumer Sciences/Human Sciences",
    "22": "Legal Professions and Studies",
    "23": "English Language and Literature/Letters",
    "24": "Liberal Arts and Sciences, General Studies and Humanities",
    "25": "Library Science",
    "26": "Biological and Biomedical Sciences",
    "27": "Mathematics and Statistics",
    "28": "Military Science, Leadership and Operational Art",
    "29": "Military Technologies and Applied Sciences",
    "30": "Multi/Interdisciplinary Studies",
    "31": "Parks, Recreation, Leisure, Fitness, and Kinesiology",
    "32": "Basic Skills and Developmental/Remedial Education",
    "33": "Citizenship Activities",
    "34": "Health-Related Knowledge and Skills",
    "35": "Interpersonal and Social Skills",
    "36": "Leisure and Recreational Activities",
    "37": "Personal Awareness and Self-Improvement",
    "38": "Philosophy and Religious Studies",
    "39": "Theology and Religious Vocations",
    "40": "Physical Sciences",
    "41": "Science Technologies/Technicians",
    "42": "Psychology",
    "43": "Homeland Security, Law Enforcement, Firefighting and Related Protective Services",
    "44": "Public Administration and Social Service Professions",
    "45": "Social Sciences",
    "46": "Construction Trades",
    "47": "Mechanic and Repair Technologies/Technicians",
    "48": "Precision Production",
    "49": "Transportation and Materials Moving",
    "50": "Visual and Performing Arts",
    "51": "Health Professions and Related Programs",
    "52": "Business, Management, Marketing, and Related Support Services",
    "53": "High School/Secondary Diplomas and Certificates",
    "54": "History",
    "60": "Health Professions Residency/Fellowship Programs",
    "61": "Medical Residency/Fellowship Programs",
}
UNKNOWN_CLUSTER = ""

# The histogram of days from issue to acceptance: (first day, last day or None, column of
# badging.outcome_summary). Single days for the first week, when most earners accept, so
# the median is exact to the day there; wider bins later, where it is interpolated.
ACCEPT_BINS: tuple[tuple[int, int | None, str], ...] = (
    (0, 0, "d0"), (1, 1, "d1"), (2, 2, "d2"), (3, 3, "d3"), (4, 4, "d4"), (5, 5, "d5"),
    (6, 6, "d6"), (7, 7, "d7"), (8, 14, "d8_14"), (15, 30, "d15_30"), (31, 60, "d31_60"),
    (61, 90, "d61_90"), (91, None, "d91_plus"))
BIN_COLUMNS = tuple(column for _, _, column in ACCEPT_BINS)


def school_year(day: date) -> int:
    """The year a school year starts: 2025 for any day from 2025-07-01 to 2026-06-30."""
    return day.year if day.month >= SCHOOL_YEAR_STARTS else day.year - 1


def school_year_of(at: datetime) -> int:
    """The school year of an instant, on the agency's calendar (Chicago)."""
    return school_year(at.astimezone(AGENCY_TZ).date())


def label(year: int) -> str:
    """2025 -> "2025-26" (how the agency writes a school year)."""
    return f"{year}-{(year + 1) % 100:02d}"


def parse_year(text: str) -> int:
    """"2025-26" or "2025" -> 2025.

    Raises:
        ValueError: not a school year, or a second half that does not follow the first.
    """
    first, dash, second = text.strip().partition("-")
    if not first.isdigit() or len(first) != 4:
        raise ValueError("a school year is written 2025-26")
    year = int(first)
    if dash and (not second.isdigit() or label(year) != f"{year}-{second[-2:]}"
                 or len(second) not in (2, 4)):
        raise ValueError("a school year is written 2025-26")
    return year


def months(year: int) -> list[date]:
    """The first day of each month of a school year, July first."""
    return [date(year + (m < SCHOOL_YEAR_STARTS), m, 1)
            for m in (*range(SCHOOL_YEAR_STARTS, 13), *range(1, SCHOOL_YEAR_STARTS))]


def bounds(year: int) -> tuple[datetime, datetime]:
    """[start, end) of a school year as UTC instants: Chicago's midnight of July 1st."""
    start = datetime(year, SCHOOL_YEAR_STARTS, 1, tzinfo=AGENCY_TZ)
    end = datetime(year + 1, SCHOOL_YEAR_STARTS, 1, tzinfo=AGENCY_TZ)
    return start.astimezone(UTC), end.astimezone(UTC)


def cluster(cip_code: str | None) -> str:
    """A CIP code's two-digit family ("47.0604" -> "47"); UNKNOWN_CLUSTER without one."""
    digits = (cip_code or "").strip()[:2]
    return digits if len(digits) == 2 and digits.isdigit() else UNKNOWN_CLUSTER


def cluster_title(family: str) -> str | None:
    """The CIP family's title, None for a family the table does not know (or none)."""
    return CIP_FAMILIES.get(family)


def accept_bin(days: int) -> str:
    """The histogram column a number of whole days falls in (negative days count as 0)."""
    for _first, last, column in ACCEPT_BINS:
        if last is None or max(days, 0) <= last:
            return column
    raise AssertionError("the last bin is open")  # pragma: no cover


def median_days(counts: Sequence[int]) -> float | None:
    """The median days to accept from the histogram's counts, in ACCEPT_BINS order.

    The lower median at whole-day resolution (percentile_disc(0.5) over whole days) when it
    falls in a single-day bin; interpolated within a wider bin, as if its badges were spread
    evenly over its days; the open bin's first day for the open bin. None without a badge.
    """
    total = sum(counts)
    if total <= 0:
        return None
    wanted = (total + 1) // 2  # the rank of the lower median, 1-based
    seen = 0
    for (first, last, _), count in zip(ACCEPT_BINS, counts, strict=True):
        if seen + count >= wanted:
            if last is None or last == first:
                return float(first)
            width = last - first + 1
            return round(first + (wanted - seen - 0.5) / count * width, 1)
        seen += count
    raise AssertionError("counts add up to more than their total")  # pragma: no cover
