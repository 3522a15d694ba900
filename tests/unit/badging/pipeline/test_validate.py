"""The suites over generated data: each check catches the dirty rows made for it; clean pass."""

from __future__ import annotations

import json
import random
from datetime import date

import pytest

from badging.pipeline import validate
from devstack.seed import QUARANTINE_KINDS, SeedParams, generate
from tests.unit.badging.pipeline.generated_frames import COLUMNS, frame_from_dataset, staged_records

# Several seeds and a high dirty rate: every kind appears dozens of times per dataset.
SEEDS = (3, 17, 2026)
DAY = date(2026, 5, 14)
NO_BAND = validate.RowCountBand(runs=0, average=0.0)

# The checks a row of each dirty kind may break; it must break at least one of them.
CHECKS_FOR_KIND = {
    "missing_email": {"email_present"},
    "malformed_email": {"email_well_formed", "email_domain_well_formed"},
    "blank_name": {"first_name_present", "last_name_present", "first_name_length",
                   "last_name_length", "first_name_has_letters", "last_name_has_letters"},
    "malformed_assessment_code": {"assessment_code_well_formed"},
    "null_test_date": {"test_date_present"},
    "future_test_date": {"test_date_not_after_entry", "test_date_plausible"},
    "impossible_test_date": {"test_date_plausible"},
    "bad_site_code": {"site_code_nine_digits"},
}
# Rows that must reach eligibility: clean, duplicated, noisy (normalised away), unknown code.
PASSING_KINDS = (None, "duplicate", "noise", "unknown_assessment")


def _run(frame, band=NO_BAND, suites=validate.SUITES):
    return validate.run_suites(frame, {n: validate.load_suite(n) for n in suites},
                               validate.suite_parameters(DAY, band),
                               validation_prefix="test", run_name="test")


@pytest.fixture(scope="module", params=SEEDS)
def generated(request):
    dataset = generate(SeedParams(date(2026, 3, 1), DAY, 1200, dirty_rate=0.35,
                                  seed=request.param))
    return dataset, _run(frame_from_dataset(dataset))


def test_the_dirty_kinds_and_the_mapping_agree():
    assert set(CHECKS_FOR_KIND) == set(QUARANTINE_KINDS)


def test_each_quarantine_kind_is_caught_by_its_checks(generated):
    dataset, outcomes = generated
    broken = outcomes[validate.ROW_SUITE].by_row
    seen = set()
    for truth in dataset.truth:
        if truth.dirty_kind in CHECKS_FOR_KIND:
            checks = set(broken.get(truth.certification_id, ()))
            allowed = CHECKS_FOR_KIND[truth.dirty_kind]
            assert checks, truth.dirty_kind
            assert checks <= allowed, (truth.dirty_kind, checks)
            seen.add(truth.dirty_kind)
    assert seen == set(CHECKS_FOR_KIND)


def test_clean_rows_pass_the_row_suite(generated):
    dataset, outcomes = generated
    broken = outcomes[validate.ROW_SUITE].by_row
    passing = [t.certification_id for t in dataset.truth if t.dirty_kind in PASSING_KINDS]
    assert len(passing) > 500
    assert not [cid for cid in passing if cid in broken]


def test_duplicates_are_warned_about_never_quarantined(generated):
    dataset, outcomes = generated
    warned = {cid for cid, checks in outcomes[validate.WARNING_SUITE].by_row.items()
              if "entered_more_than_once" in checks}
    pairs = {t.certification_id for t in dataset.truth if t.dirty_kind == "duplicate"}
    pairs |= {t.duplicate_of for t in dataset.truth if t.dirty_kind == "duplicate"}
    assert pairs
    assert warned == pairs
    assert not pairs & set(outcomes[validate.ROW_SUITE].by_row)


def test_tests_outside_the_approval_window_are_warnings(generated):
    dataset, outcomes = generated
    warned = {cid for cid, checks in outcomes[validate.WARNING_SUITE].by_row.items()
              if "test_date_outside_approval" in checks}
    processed = {t.certification_id: t.expected for t in dataset.truth
                 if t.dirty_kind in PASSING_KINDS}
    not_effective = {c for c, e in processed.items() if e == "ineligible:assessment_not_effective"}
    assert not_effective
    assert warned & set(processed) == not_effective


def test_the_table_suite_passes_generated_batches(generated):
    _, outcomes = generated
    assert outcomes[validate.TABLE_SUITE].success
    assert outcomes[validate.TABLE_SUITE].table_failures == []


@pytest.mark.parametrize("name", ["O'Brien", "Zoë", "Anne-Marie", "De La Cruz", "Nguyễn",
                                  "D'Andre", "Mary Kate", "Ó Súilleabháin"])
def test_real_names_pass(name):
    dataset = generate(SeedParams(date(2026, 5, 1), DAY, 60, dirty_rate=0.0, seed=5))
    records = [(*r[:3], name, name, *r[5:]) for r in staged_records(dataset)]
    outcome = _run(validate.staged_frame(records, COLUMNS), suites=(validate.ROW_SUITE,))
    assert outcome[validate.ROW_SUITE].by_row == {}


@pytest.mark.parametrize(("bad", "check"), [
    ("12345", "first_name_has_letters"),
    ("--", "first_name_has_letters"),
    ("Ana\x07", "first_name_printable"),
    ("Jo\u0085se", "first_name_printable"),
    ("A" * 101, "first_name_length"),
])
def test_implausible_first_names_are_caught(bad, check):
    dataset = generate(SeedParams(date(2026, 5, 1), DAY, 80, dirty_rate=0.0, seed=7))
    records = staged_records(dataset)
    spoiled = set(random.Random(bad).sample(range(len(records)), 10))
    records = [(*r[:3], bad, *r[4:]) if i in spoiled else r for i, r in enumerate(records)]
    broken = _run(validate.staged_frame(records, COLUMNS),
                  suites=(validate.ROW_SUITE,))[validate.ROW_SUITE].by_row
    assert set(broken) == {records[i][0] for i in spoiled}
    assert all(check in checks for checks in broken.values())


def test_a_tenfold_day_passes_the_table_suite_and_an_empty_one_only_warns():
    # A day's volume is the volume gate's judgement (badging/gates/volume.py), not a GX failure.
    dataset = generate(SeedParams(date(2026, 5, 1), DAY, 150, dirty_rate=0.0, seed=9))
    frame = frame_from_dataset(dataset)
    band = validate.RowCountBand(runs=20, average=10.0)
    assert band.minimum == 1
    big = _run(frame, band)
    assert len(frame) > 10 * band.average
    assert big[validate.TABLE_SUITE].success
    assert big[validate.TABLE_SUITE].table_failures == []

    empty = _run(frame.iloc[0:0], band)
    assert empty[validate.TABLE_SUITE].success
    assert empty[validate.ROW_SUITE].success
    assert empty[validate.WARNING_SUITE].table_failures == ["row_count_collapsed"]
    # Without enough history there is no band: an empty day is simply empty.
    assert all(o.success for o in _run(frame.iloc[0:0]).values())


def test_a_retyped_or_missing_column_fails_the_table_suite():
    dataset = generate(SeedParams(date(2026, 5, 1), DAY, 40, dirty_rate=0.0, seed=9))
    frame = frame_from_dataset(dataset)
    retyped = frame.assign(test_date=frame["test_date"].astype(str))
    assert _run(retyped, suites=(validate.TABLE_SUITE,))[
        validate.TABLE_SUITE].table_failures == ["types_as_expected"]
    dropped = frame.drop(columns=["approved_to"])
    assert "columns_as_expected" in _run(dropped, suites=(validate.TABLE_SUITE,))[
        validate.TABLE_SUITE].table_failures


def test_scrubbed_results_hold_no_email_or_name(generated):
    dataset, outcomes = generated
    text = json.dumps([o.scrubbed for o in outcomes.values()])
    assert not [s.email for s in dataset.students if s.email and s.email.strip() in text]
    assert not [s.last_name for s in dataset.students
                if s.last_name and len(s.last_name.strip()) > 6 and s.last_name.strip() in text]
    # What Data Docs needs is still there: per check, how many rows failed.
    counts = [r["result"].get("unexpected_count") for o in outcomes.values()
              for r in o.scrubbed["results"]]
    assert any(counts)
