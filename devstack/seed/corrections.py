"""Corrections: what instructors change in CTIMS on a later day to a badge-earning row.

With `correction_rate` R > 0, a share R of the badge-earning rows (truth `eligible` or
`duplicate`) is corrected once the rows are built, each at a working-hours moment 1 to 14 days
after the row was last written (never past `date_to`; rows last written on the last day are
left alone). The row's `updated_at` becomes that moment, so that day's extract window sees
it. The kinds, spread evenly, and what the ledger must then do with the badge the correction
concerns (the row's student and assessment before it), in `devstack.seed_correction`:

    kind                   what changes in CTIMS                                 expected
    soft_delete            deleted_at set                                        revoke
    hard_delete            the row is removed from realtime_certifications       revoke
    reassigned_student     student_id: another student without that assessment  revoke
    reassigned_assessment  assessment_code: a code on no approved list           revoke
    email_fixed            the student's email (ctims.students)                  move_email
    name_fixed             the student's first or last name (ctims.students)     replace_name
    reentered              soft-deleted, and entered again that day (new id,     nothing
                           same student, assessment, site, program, test date)

A `revoke` is `nothing` instead while another live badge-earning row of the same student
and assessment remains (a duplicate entry keeps the badge justified). The first row of a
badge that has duplicates is never corrected, so the duplicates' `duplicate_of` stays right.
A reassigned row goes preferably to a student the assessment aligns for (then it earns them
a badge), and is an assessment reassignment in a seed too small to hold another student. A
fixed email or name never takes a value the student had before.

A seed is written whole, so the pipeline only ever reads the corrected rows: their
`seed_truth` says what first processing makes of them as corrected (a removed row has
none, a re-entered row's new id has its own). The rows as they were before the corrections
are exactly the same seed with rate 0: corrections draw from a stream of their own, and
re-entered rows take ids after the seed's last.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock

from devstack.seed.defects import email_address, unknown_code
from devstack.seed.distributions import largest_remainder
from devstack.seed.records import (
    CHICAGO,
    Certification,
    Correction,
    Enrollment,
    IdStart,
    SeedParams,
    Student,
    Truth,
)
from devstack.seed.reference import Reference, person, stream

KINDS = ("soft_delete", "hard_delete", "reassigned_student", "reassigned_assessment",
         "email_fixed", "name_fixed", "reentered")
# What each kind does to the badge when no other row keeps it justified.
EXPECTED = {"soft_delete": "revoke", "hard_delete": "revoke", "reassigned_student": "revoke",
            "reassigned_assessment": "revoke", "email_fixed": "move_email",
            "name_fixed": "replace_name", "reentered": "nothing"}
EARNING = ("eligible", "duplicate")
MAX_DAYS_LATER = 14
# Tries at finding another student aligned for the assessment before settling for any.
_REASSIGN_TRIES = 50


def badge_code(code: str | None) -> str | None:
    """The assessment code as the pipeline keys badges: btrim (spaces), upper-cased."""
    return None if code is None else code.strip(" ").upper()


def _retold(truth: Truth, expected: str) -> Truth:
    """The truth of a row that no longer earns the badge it was entered for."""
    # dirty_kind 'duplicate' goes with a duplicate_of: a row that stops being one loses both.
    kind = None if truth.dirty_kind == "duplicate" else truth.dirty_kind
    return truth._replace(expected=expected, dirty_kind=kind, duplicate_of=None)


class Corrector:
    """Applies one seed's corrections to its finished rows."""

    def __init__(self, params: SeedParams, start_ids: IdStart, ref: Reference,
                 students: list[Student], enrollments: list[Enrollment],
                 certifications: list[Certification], truth: list[Truth]) -> None:
        self.params = params
        self.ref = ref
        # Like the rows, the stream depends on where ids start (a second seed differs).
        self.rng = stream(params.seed, f"corrections/{start_ids.student_id}/"
                                       f"{start_ids.certification_id}")
        self.students = {s.student_id: s for s in students}
        self.rows = {c.certification_id: c for c in certifications}
        self.truth = {t.certification_id: t for t in truth}
        self.next_id = start_ids.certification_id + len(certifications)
        self.enrollments: dict[int, list[Enrollment]] = defaultdict(list)
        for enrollment in enrollments:
            self.enrollments[enrollment.student_id].append(enrollment)
        # Every assessment a student has a row of, in any state.
        self.held: dict[int, set[str | None]] = defaultdict(set)
        for row in certifications:
            self.held[row.student_id].add(badge_code(row.assessment_code))
        # Students a row can be reassigned to: a clean eligible row vouches for their record
        # (valid email and name, not opted out).
        self.pool = sorted({self.rows[t.certification_id].student_id for t in truth
                            if t.expected == "eligible" and t.dirty_kind is None})
        # Per (student, field) fixed: every value it has had, compared as the pipeline would.
        self.had: dict[tuple[int, str], set[str]] = {}
        self.good_programs = {p.program_code for p in ref.good_programs}
        self.site_of = {p.program_code: p.site_code for p in ref.programs}

    def apply(self) -> tuple[list[Student], list[Certification], list[Truth], list[Correction]]:
        planned = self._plan()
        # In time order, so re-entered rows take ids in the order they were entered.
        planned.sort()
        made = [self._correct(moment, certification_id, kind)
                for moment, certification_id, kind in planned]
        earned = {(row.student_id, badge_code(row.assessment_code))
                  for row in self.rows.values()
                  if row.deleted_at is None
                  and self.truth[row.certification_id].expected in EARNING}
        corrections = [c._replace(expected="nothing") if c.expected == "revoke"
                       and (c.student_id, c.assessment_code) in earned else c for c in made]
        return (list(self.students.values()),
                sorted(self.rows.values(), key=lambda r: r.certification_id),
                sorted(self.truth.values(), key=lambda t: t.certification_id),
                sorted(corrections, key=lambda c: c.certification_id))

    # -- which rows, which kind, when ---------------------------------------------------

    def _plan(self) -> list[tuple[datetime, int, str]]:
        rng = self.rng
        firsts = {t.duplicate_of for t in self.truth.values() if t.duplicate_of is not None}
        candidates = [row for row in self.rows.values()
                      if self.truth[row.certification_id].expected in EARNING
                      and row.certification_id not in firsts
                      and _day(row.updated_at) < self.params.date_to]
        count = int(len(candidates) * self.params.correction_rate + 0.5)
        chosen = rng.sample(candidates, count)
        split = largest_remainder(count, [(kind, 1 / len(KINDS)) for kind in KINDS])
        kinds = [kind for kind, n in split.items() for _ in range(n)]
        rng.shuffle(kinds)
        return [(self._moment_after(row.updated_at), row.certification_id, kind)
                for row, kind in zip(chosen, kinds, strict=True)]

    def _moment_after(self, last_written: datetime) -> datetime:
        rng = self.rng
        day = _day(last_written)
        days = rng.randint(1, min(MAX_DAYS_LATER, (self.params.date_to - day).days))
        # Working hours, so a re-entry within the next hours is still that day.
        return datetime.combine(day + timedelta(days=days),
                                clock(rng.randint(8, 16), rng.randrange(60)), CHICAGO)

    # -- the corrections ----------------------------------------------------------------

    def _correct(self, moment: datetime, certification_id: int, kind: str) -> Correction:
        row = self.rows[certification_id]
        was = self.truth[certification_id]
        code = badge_code(row.assessment_code)
        assert code is not None  # badge-earning rows have a well-formed code
        reentered_as = None
        if kind == "reassigned_student" and not self._reassign(row, moment):
            kind = "reassigned_assessment"  # a seed too small to hold another student
        if kind in ("soft_delete", "reentered"):
            self.rows[certification_id] = row._replace(updated_at=moment, deleted_at=moment)
            self.truth[certification_id] = _retold(was, "ineligible:deleted")
            if kind == "reentered":
                reentered_as = self._reenter(row, was, moment)
        elif kind == "hard_delete":
            del self.rows[certification_id]
            del self.truth[certification_id]
        elif kind == "reassigned_assessment":
            self.rows[certification_id] = row._replace(
                assessment_code=unknown_code(self.rng, self.ref.by_code), updated_at=moment)
            self.truth[certification_id] = _retold(was, "ineligible:not_approved_assessment")
        elif kind in ("email_fixed", "name_fixed"):
            fix = self._new_email if kind == "email_fixed" else self._new_name
            self.students[row.student_id] = fix(self.students[row.student_id])
            self.rows[certification_id] = row._replace(updated_at=moment)
        return Correction(certification_id, kind, _day(moment), row.student_id, code,
                          EXPECTED[kind], reentered_as)

    def _reenter(self, row: Certification, was: Truth, moment: datetime) -> int:
        """The same certification entered again minutes after its deletion, under a new id."""
        new_id = self.next_id
        self.next_id += 1
        entered = moment + timedelta(minutes=self.rng.randint(3, 90))
        self.rows[new_id] = row._replace(certification_id=new_id, entered_at=entered,
                                         updated_at=entered, deleted_at=None)
        # What the deleted row was (eligible, or a duplicate of the badge's first row).
        self.truth[new_id] = was._replace(certification_id=new_id)
        return new_id

    def _reassign(self, row: Certification, moment: datetime) -> bool:
        """Give the row to another student with no row of its assessment, if there is one."""
        rng = self.rng
        code = badge_code(row.assessment_code)
        chosen, outcome = None, "ineligible:no_aligned_program"
        # Preferably one the assessment aligns for, as a mix-up within a class would be.
        for _ in range(_REASSIGN_TRIES if self.pool else 0):
            student_id = rng.choice(self.pool)
            if student_id == row.student_id or code in self.held[student_id]:
                continue
            if self._aligned(student_id, code, row.test_date):
                chosen, outcome = student_id, "eligible"
                break
            chosen = chosen or student_id
        if chosen is None:
            return False
        self.held[chosen].add(code)
        self.rows[row.certification_id] = row._replace(student_id=chosen, updated_at=moment)
        self.truth[row.certification_id] = _retold(self.truth[row.certification_id], outcome)
        return True

    def _aligned(self, student_id: int, code: str | None, test_date: date | None) -> bool:
        """An enrollment started by the test date in a good program that covers the code."""
        return test_date is not None and any(
            e.start_date <= test_date and e.program_code in self.good_programs
            and code in self.ref.cover[e.program_code]
            for e in self.enrollments[student_id])

    def _new_email(self, student: Student) -> Student:
        latest = max(self.enrollments[student.student_id], key=lambda e: e.start_date)
        slug = self.ref.site_slug[self.site_of[latest.program_code]]
        return self._changed(student, "email", lambda: email_address(
            self.rng, student.first_name or "", student.last_name or "", student.student_id,
            slug))

    def _new_name(self, student: Student) -> Student:
        if self.rng.random() < 0.5:
            return self._changed(student, "first_name", lambda: person(self.rng)[0])
        return self._changed(student, "last_name", lambda: person(self.rng)[1])

    def _changed(self, student: Student, field: str, draw: Callable[[], str]) -> Student:
        """The student with a value the field never had: a second fix never undoes the first."""
        had = self.had.setdefault((student.student_id, field),
                                  {(getattr(student, field) or "").strip(" ").lower()})
        while True:
            value = draw()
            if value.lower() not in had:
                had.add(value.lower())
                return student._replace(**{field: value})


def _day(moment: datetime) -> date:
    return moment.astimezone(CHICAGO).date()


def correct(params: SeedParams, start_ids: IdStart, ref: Reference, students: list[Student],
            enrollments: list[Enrollment], certifications: list[Certification],
            truth: list[Truth],
            ) -> tuple[list[Student], list[Certification], list[Truth], list[Correction]]:
    """The rows, students and truth after the seed's corrections, and the corrections."""
    return Corrector(params, start_ids, ref, students, enrollments, certifications,
                     truth).apply()
