"""The row builder: students, enrollments and Real-Time rows, each with its truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from itertools import accumulate

from badging.core.constants import PROGRAM_LAUNCH
from devstack.seed.corrections import correct
from devstack.seed.defects import bad_site_code, malformed_code, malformed_email, unknown_code
from devstack.seed.distributions import (
    ENTRY_LAG,
    UPLOAD_LOGIN,
    WORK_HOUR,
    day_weight,
    largest_remainder,
    outcome_of,
)
from devstack.seed.placement import Learner, Placement
from devstack.seed.records import (
    CHICAGO,
    CLEAN_MIX,
    DIRTY_KINDS,
    Certification,
    Correction,
    Dataset,
    Enrollment,
    IdStart,
    Program,
    SeedParams,
    Student,
    Truth,
)
from devstack.seed.reference import Reference, build_reference, stream


@dataclass(eq=False, slots=True)
class Draft:
    """One Real-Time row before ids are assigned in entry order."""

    learner: Learner
    assessment_code: str | None
    site_code: str | None
    program_code: str | None
    test_date: date | None
    entered_by: str
    entered_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    expected: str
    dirty_kind: str | None
    seq: int
    duplicate_of: Draft | None = None
    certification_id: int = 0


class RowBuilder(Placement):
    """Makes the students, enrollments and Real-Time rows of one seed."""

    def __init__(self, params: SeedParams, start_ids: IdStart, ref: Reference) -> None:
        self.params = params
        self.ref = ref
        # The row stream also depends on where ids start, so a second seed with the same
        # parameters adds different students rather than copies of the first seed's.
        self.rng = stream(params.seed, f"rows/{start_ids.student_id}/"
                                       f"{start_ids.certification_id}")
        self.next_student_id = start_ids.student_id
        self.first_certification_id = start_ids.certification_id
        self.range_end = datetime.combine(params.date_to, clock(23, 59, 59), CHICAGO)
        span = (params.date_to - params.date_from).days + 1
        self.days = [params.date_from + timedelta(days=n) for n in range(span)]
        self.cum_weights = list(accumulate(day_weight(day) for day in self.days))
        self.learners: list[Learner] = []
        self.enrollments: list[Enrollment] = []
        self.open: list[Learner] = []
        self.seq = 0
        # What each program aligns, shared (read-only) by the students enrolled in it.
        self.aligned_by = {p.program_code: dict.fromkeys(ref.cover[p.program_code], p)
                           for p in ref.programs}
        self.programs_with: dict[str, list[Program]] = {
            category: [p for p in ref.good_programs
                       if any(self._fits_statically(category, code)
                              for code in ref.cover[p.program_code])]
            for category in ("eligible", "opted_out", "no_badge_template",
                             "before_program_launch")
        }

    # -- public -------------------------------------------------------------------------

    def build(self) -> tuple[list[Student], list[Enrollment], list[Certification], list[Truth]]:
        rng = self.rng
        total = self.params.rows
        dirty_total = min(total, int(total * self.params.dirty_rate + 0.5))
        dirty = self._dirty_counts(dirty_total)
        clean = largest_remainder(total - dirty_total, CLEAN_MIX)
        duplicates = dirty.pop("duplicate", 0)
        slots = [(None, category) for category, n in clean.items() for _ in range(n)]
        slots += [(kind, None) for kind, n in dirty.items() for _ in range(n)]
        rng.shuffle(slots)
        drafts = []
        for at, (kind, category) in zip(self._entry_times(len(slots)), slots, strict=True):
            if kind is None:
                drafts.append(self._clean_row(at, category))
            else:
                drafts.append(self._dirty_row(at, kind))
            if len(drafts) % 2000 == 0:
                self._forget_closed_learners()
        made = self._duplicate_rows(drafts, duplicates)
        # Too few eligible rows to copy (tiny or all-dirty seeds): noise takes the slots.
        shortfall = duplicates - len(made)
        made += [self._dirty_row(at, "noise") for at in self._entry_times(shortfall)]
        drafts += made
        return self._finish(drafts)

    # -- row categories -----------------------------------------------------------------

    def _clean_row(self, at: datetime, category: str) -> Draft:
        if category == "deleted":
            _, draft = self._place_first(at, "eligible")
            draft.deleted_at = draft.updated_at = self._later(at, max_days=5)
            draft.expected = "ineligible:deleted"
            return draft
        placed, draft = self._place_first(at, category)
        draft.expected = outcome_of(placed)
        self._maybe_correct(draft)
        return draft

    def _dirty_row(self, at: datetime, kind: str) -> Draft:
        rng = self.rng
        test_date = self._test_date(at.date())
        # Under the defect, the row is what a clean row of that day would mostly be. Years
        # before the approved list began, that can only be a not-yet-effective assessment.
        preferred = "eligible" if test_date >= PROGRAM_LAUNCH else "before_program_launch"
        for base in (preferred, "assessment_not_effective"):
            # Defects in names and emails live on the student: a dirty row gets a student of
            # its own so no clean row shares the damage.
            found = self._new_learner_with(base, test_date, pooled=False)
            if found is not None:
                break
        else:
            raise AssertionError(f"no row at all can be built for {test_date}")
        learner, code = found
        draft = self._draft(at, learner, code, test_date)
        draft.dirty_kind = kind
        draft.expected = "quarantined"
        if kind == "missing_email":
            learner.email = None
        elif kind == "malformed_email":
            learner.email = malformed_email(rng, learner.email or "")
        elif kind == "blank_name":
            blank = rng.choice((None, "", "   "))
            if rng.random() < 0.5:
                learner.first_name = blank
            else:
                learner.last_name = blank
        elif kind == "malformed_assessment_code":
            draft.assessment_code = malformed_code(rng, code)
        elif kind == "null_test_date":
            draft.test_date = None
        elif kind == "future_test_date":
            # Two days or more, so it is after entry in UTC as well as in Chicago.
            draft.test_date = at.date() + timedelta(days=rng.randint(2, 45))
        elif kind == "impossible_test_date":
            draft.test_date = rng.choice((
                date(1900, 1, 1),
                date(test_date.year - 100, test_date.month, min(test_date.day, 28)),
                date(1999, 12, 31),
            ))
        elif kind == "bad_site_code":
            draft.site_code = bad_site_code(rng, draft.site_code or "")
        elif kind == "unknown_assessment":
            draft.assessment_code = self._unknown_code()
            draft.expected = "ineligible:not_approved_assessment"
        elif kind == "noise":
            self._add_noise(draft)
            draft.expected = outcome_of(base)
        else:
            raise ValueError(f"unknown dirty kind {kind!r}")
        self._maybe_correct(draft)
        return draft

    def _duplicate_rows(self, drafts: list[Draft], wanted: int) -> list[Draft]:
        # Originals are never corrected later, so they reach the pipeline no later than
        # their duplicate does.
        originals = [d for d in drafts if d.expected == "eligible" and d.dirty_kind is None
                     and d.updated_at == d.entered_at]
        self.rng.shuffle(originals)
        made: list[Draft] = []
        for original in originals:
            if len(made) == wanted:
                break
            at = self._reentry(original.entered_at)
            if at is None:
                continue
            copy = self._draft(at, original.learner, original.assessment_code,
                               original.test_date, site_code=original.site_code,
                               program_code=original.program_code)
            copy.expected = "duplicate"
            copy.dirty_kind = "duplicate"
            copy.duplicate_of = original
            made.append(copy)
        return made

    # -- dates and values ---------------------------------------------------------------

    def _entry_times(self, count: int) -> list[datetime]:
        rng = self.rng
        days = rng.choices(self.days, cum_weights=self.cum_weights, k=count)
        stamps = sorted((day, self._second_of_day()) for day in days)
        return [datetime.combine(day, clock(s // 3600, s // 60 % 60, s % 60), CHICAGO)
                for day, s in stamps]

    def _second_of_day(self) -> int:
        rng = self.rng
        roll = rng.random()
        if roll < 0.008:
            # Just before midnight: these reach the replica after their day's run.
            return 23 * 3600 + 50 * 60 + rng.randrange(600)
        if roll < 0.04:
            return rng.randint(18, 21) * 3600 + rng.randrange(3600)
        return WORK_HOUR.draw(rng) * 3600 + rng.randrange(3600)

    def _test_date(self, entered: date) -> date:
        return entered - ENTRY_LAG.draw(self.rng)

    def _start_before(self, test_date: date) -> date:
        """An enrollment start at least a month before the first test."""
        rng = self.rng
        latest = test_date - timedelta(days=30)
        if rng.random() < 0.7:
            # Most students start with the school year in August.
            year = latest.year if latest >= date(latest.year, 8, 25) else latest.year - 1
            return date(year - rng.choice((0, 0, 1)), 8, rng.randint(10, 25))
        return latest - timedelta(days=rng.randint(0, 400))

    def _later(self, at: datetime, *, max_days: int) -> datetime:
        """A moment a few days after `at`, never past the seeded range."""
        rng = self.rng
        day = min(at.date() + timedelta(days=rng.randint(1, max_days)), self.params.date_to)
        moment = datetime.combine(day, clock(rng.randint(8, 16), rng.randrange(60)), CHICAGO)
        if moment <= at:
            moment = min(at + timedelta(minutes=rng.randint(5, 120)), self.range_end)
        return max(moment, at)

    def _reentry(self, at: datetime) -> datetime | None:
        """When the same certification is entered again: later that day or within days."""
        rng = self.rng
        same_day = at + timedelta(minutes=rng.randint(3, 240))
        later_day = at.date() + timedelta(days=rng.randint(1, 4))
        options = [same_day if same_day.date() == at.date() and same_day <= self.range_end
                   else None,
                   datetime.combine(later_day, clock(rng.randint(8, 16), rng.randrange(60)),
                                    CHICAGO) if later_day <= self.params.date_to else None]
        if rng.random() < 0.4:
            options.reverse()
        return next((option for option in options if option is not None), None)

    def _maybe_correct(self, draft: Draft) -> None:
        if self.rng.random() < 0.05:
            draft.updated_at = self._later(draft.entered_at, max_days=5)

    def _draft(self, at: datetime, learner: Learner, code: str | None, test_date: date | None,
               *, site_code: str | None = None, program_code: str | None = None) -> Draft:
        program = learner.aligned.get(code or "") or learner.home
        site = site_code or program.site_code
        entered_by = UPLOAD_LOGIN if self.rng.random() < 0.08 else \
            self.rng.choice(self.ref.instructors[program.site_code])
        self.seq += 1
        return Draft(learner, code, site, program_code or program.program_code, test_date,
                      entered_by, at, at, None, "", None, self.seq)

    def _unknown_code(self) -> str:
        return unknown_code(self.rng, self.ref.by_code)

    def _add_noise(self, draft: Draft) -> None:
        """Stray spaces and case that the extract's normalisation removes."""
        rng = self.rng
        learner = draft.learner
        for target in rng.sample(("code", "site", "email", "name"), rng.randint(1, 2)):
            if target == "code" and draft.assessment_code:
                code = draft.assessment_code
                draft.assessment_code = rng.choice((code.lower(), code.title(), f" {code}  ",
                                                    f"{code.lower()} "))
            elif target == "site" and draft.site_code:
                draft.site_code = rng.choice((f" {draft.site_code}", f"{draft.site_code}  "))
            elif target == "email" and learner.email:
                local, domain = learner.email.split("@")
                learner.email = rng.choice((f" {learner.email} ", f"{local.title()}@{domain}",
                                            f"{learner.email.upper()}  "))
            elif target == "name" and learner.first_name and learner.last_name:
                learner.first_name = f"  {learner.first_name}"
                learner.last_name = f"{learner.last_name} "

    def _dirty_counts(self, total: int) -> dict[str, int]:
        """Dirty rows split evenly over the kinds; the odd ones to kinds drawn at random."""
        base, extra = divmod(total, len(DIRTY_KINDS))
        counts = dict.fromkeys(DIRTY_KINDS, base)
        for kind in self.rng.sample(DIRTY_KINDS, extra):
            counts[kind] += 1
        return counts

    def _finish(
        self, drafts: list[Draft],
    ) -> tuple[list[Student], list[Enrollment], list[Certification], list[Truth]]:
        drafts.sort(key=lambda d: (d.entered_at, d.seq))
        certifications: list[Certification] = []
        truth: list[Truth] = []
        for certification_id, draft in enumerate(drafts, start=self.first_certification_id):
            draft.certification_id = certification_id
            certifications.append(Certification(
                certification_id, draft.learner.student_id, draft.assessment_code,
                draft.site_code, draft.program_code, draft.test_date, draft.entered_by,
                draft.entered_at, draft.updated_at, draft.deleted_at))
            original = draft.duplicate_of
            truth.append(Truth(certification_id, draft.expected, draft.dirty_kind,
                               original.certification_id if original else None))
        students = [Student(le.student_id, le.first_name, le.last_name, le.email, le.opt_out)
                    for le in self.learners]
        return students, self.enrollments, certifications, truth


def generate(params: SeedParams, *, start_ids: IdStart | None = None) -> Dataset:
    """Build one seed's data in memory; the same params and start ids give the same data."""
    ref = build_reference(params.seed)
    start_ids = start_ids or IdStart()
    students, enrollments, certifications, truth = RowBuilder(params, start_ids, ref).build()
    corrections: list[Correction] = []
    if params.correction_rate:
        students, certifications, truth, corrections = correct(
            params, start_ids, ref, students, enrollments, certifications, truth)
    return Dataset(
        sites=tuple(ref.sites),
        programs=tuple(ref.programs),
        approved_assessments=tuple(ref.assessments),
        program_assessments=tuple(ref.program_assessments),
        badge_templates=tuple(ref.badge_templates),
        students=tuple(students),
        enrollments=tuple(enrollments),
        certifications=tuple(certifications),
        truth=tuple(truth),
        corrections=tuple(corrections),
        assessment_validity=tuple(ref.validities),
    )

