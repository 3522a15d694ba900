"""Which student a row is entered for: an open student with room, or a new one enrolled
where the row can get its intended outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from badging.core.constants import PROGRAM_LAUNCH
from devstack.seed.defects import email_address
from devstack.seed.distributions import MORE_ROWS, UNALIGNED_WAY
from devstack.seed.records import FALLBACK, Enrollment, Program
from devstack.seed.reference import person

if TYPE_CHECKING:
    from devstack.seed.rows import Draft


@dataclass(eq=False, slots=True)
class Learner:
    """A student while rows are being made: what aligns for them and what they hold."""

    student_id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    opt_out: bool
    # the program rows are entered under when no enrolled program aligns the assessment
    home: Program
    # assessment -> the enrolled program that covers it, valid from the learner's first row
    aligned: dict[str, Program]
    capacity: int
    used: set[str] = field(default_factory=set)


class Placement:
    """The half of RowBuilder that chooses students and assessments for rows.

    A mixin: RowBuilder holds the state (rng, ref, learners, enrollments, open, aligned_by,
    programs_with, next_student_id) and the row-level helpers these methods call
    (_draft, _test_date, _start_before).
    """

    def _place_first(self, at: datetime, category: str) -> tuple[str, Draft]:
        for candidate in (category, *FALLBACK):
            draft = self._place(at, candidate)
            if draft is not None:
                return candidate, draft
        raise AssertionError(f"no outcome can be built for a row entered {at:%Y-%m-%d}")

    def _place(self, at: datetime, category: str) -> Draft | None:
        day = at.date()
        if category == "before_program_launch" and day >= PROGRAM_LAUNCH:
            # Entered after the launch for a test taken before it: a retroactive entry.
            test_date = min(day, PROGRAM_LAUNCH - timedelta(days=self.rng.randint(1, 540)))
        else:
            test_date = self._test_date(day)
        if category == "no_aligned_program":
            return self._place_unaligned(at, test_date)
        if category in ("opted_out", "before_program_launch"):
            found = self._new_learner_with(category, test_date, pooled=True,
                                           opt_out=category == "opted_out")
        else:
            found = self._open_learner_with(category, test_date) or \
                self._new_learner_with(category, test_date, pooled=True)
        if found is None:
            return None
        learner, code = found
        return self._draft(at, learner, code, test_date)

    def _place_unaligned(self, at: datetime, test_date: date) -> Draft | None:
        """A row no enrollment aligns, in one of the ways that happens."""
        rng = self.rng
        ref = self.ref
        way = UNALIGNED_WAY.draw(rng)
        if way == "not_covered":
            found = self._open_learner_with("no_aligned_program", test_date) or \
                self._new_learner_with("no_aligned_program", test_date, pooled=True)
            if found is None:
                return None
            learner, code = found
            return self._draft(at, learner, code, test_date)
        choices = {"late_enrollment": ref.good_programs, "not_enrolled": ref.good_programs,
                   "unapproved_program": ref.unapproved_programs,
                   "unaccredited_site": ref.unaccredited_programs}[way]
        for program in rng.sample(choices, min(6, len(choices))):
            codes = [c for c in ref.cover[program.program_code]
                     if not ref.vendor_badged(c) and ref.effective(c, test_date)]
            if not codes:
                continue
            if way == "late_enrollment":
                start = test_date + timedelta(days=rng.randint(1, 150))
            else:
                start = self._start_before(test_date)
            enrolled = [] if way == "not_enrolled" else [(program, start)]
            learner = self._new_learner(enrolled, {}, home=program, opt_out=False,
                                        pooled=False)
            code = rng.choice(codes)
            learner.used.add(code)
            return self._draft(at, learner, code, test_date)
        return None

    def _candidates(self, category: str, learner_aligned: dict[str, Program], used: set[str],
                    test_date: date) -> list[str]:
        ref = self.ref
        fresh = [c for c in learner_aligned if c not in used]
        if category in ("eligible", "opted_out", "no_badge_template"):
            if test_date < PROGRAM_LAUNCH:
                return []
            want_template = category != "no_badge_template"
            return [c for c in fresh if not ref.vendor_badged(c) and ref.effective(c, test_date)
                    and (c in ref.active_template) == want_template]
        if category == "before_program_launch":
            if test_date >= PROGRAM_LAUNCH:
                return []
            return [c for c in fresh if not ref.vendor_badged(c) and ref.effective(c, test_date)]
        if category == "vendor_badge":
            own = [c for c in fresh if ref.vendor_badged(c) and ref.effective(c, test_date)]
            return own or [c for c in ref.vendor_codes if c not in used
                           and ref.effective(c, test_date)]
        if category == "assessment_not_effective":
            own = [c for c in fresh if not ref.effective(c, test_date)]
            return own or [c for c in ref.by_code if c not in used
                           and not ref.effective(c, test_date)]
        if category == "no_aligned_program":
            return [c for c in ref.agency_codes if c not in learner_aligned and c not in used
                    and ref.effective(c, test_date)]
        raise ValueError(f"unknown category {category!r}")

    def _fits_statically(self, category: str, code: str) -> bool:
        """Could `code` ever carry `category` for a student whose program covers it."""
        if self.ref.vendor_badged(code):
            return False
        if category == "no_badge_template":
            return code not in self.ref.active_template
        if category in ("eligible", "opted_out"):
            return code in self.ref.active_template
        return True

    def _open_learner_with(self, category: str, test_date: date) -> tuple[Learner, str] | None:
        """Maybe give the row to a recent student who has room for another credential."""
        rng = self.rng
        if not self.open or rng.random() < 0.4:
            return None
        learner = self.open[rng.randrange(max(0, len(self.open) - 400), len(self.open))]
        if learner.capacity <= 0 or (learner.opt_out and category == "eligible"):
            return None
        codes = self._candidates(category, learner.aligned, learner.used, test_date)
        if not codes:
            return None
        learner.capacity -= 1
        code = rng.choice(codes)
        learner.used.add(code)
        return learner, code

    def _new_learner_with(self, category: str, test_date: date, *, pooled: bool,
                          opt_out: bool = False) -> tuple[Learner, str] | None:
        """A new student, enrolled in a program that lets the row have `category`."""
        rng = self.rng
        programs = self.programs_with.get(category, self.ref.good_programs)
        for _ in range(8):
            home = rng.choice(programs)
            aligned = self.aligned_by[home.program_code]
            # Some students finished an earlier program before this one.
            earlier = rng.choice(self.ref.good_programs) if rng.random() < 0.1 else home
            if earlier != home:
                aligned = {**self.aligned_by[earlier.program_code], **aligned}
            codes = self._candidates(category, aligned, set(), test_date)
            if not codes:
                continue
            enrolled = [(home, self._start_before(test_date))]
            if earlier != home:
                enrolled.insert(0, (earlier, enrolled[0][1] - timedelta(
                    days=rng.randint(200, 700))))
            learner = self._new_learner(enrolled, aligned, home=home, opt_out=opt_out,
                                        pooled=pooled)
            code = rng.choice(codes)
            learner.used.add(code)
            return learner, code
        return None

    def _new_learner(self, enrolled: list[tuple[Program, date]], aligned: dict[str, Program],
                     *, home: Program, opt_out: bool, pooled: bool) -> Learner:
        rng = self.rng
        student_id = self.next_student_id
        # Gaps, as ids handed out statewide would have; ids stay increasing.
        self.next_student_id += rng.randint(1, 3)
        first, last = person(rng)
        email = email_address(rng, first, last, student_id, self.ref.site_slug[home.site_code])
        for index, (program, start) in enumerate(enrolled):
            finished = index < len(enrolled) - 1 or rng.random() < 0.5
            end = start + timedelta(days=rng.randint(270, 700)) if finished else None
            self.enrollments.append(Enrollment(student_id, program.program_code, start, end))
        # Credentials stack: a student may collect several over the following months.
        capacity = MORE_ROWS.draw(rng)
        learner = Learner(student_id, first, last, email, opt_out, home, aligned,
                           capacity if pooled else 0)
        self.learners.append(learner)
        if pooled and capacity:
            self.open.append(learner)
        return learner

    def _forget_closed_learners(self) -> None:
        self.open = [learner for learner in self.open[-2000:] if learner.capacity > 0]
