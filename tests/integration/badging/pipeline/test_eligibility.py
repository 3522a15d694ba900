"""The eligibility rules on real Postgres: every validated row decided as the seed's truth says."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import psycopg

from badging.pipeline.eligibility import decide
from tests.integration.badging.conftest import DAY


def _truth(stack) -> dict[int, str]:
    with psycopg.connect(stack.dsn("ctims")) as conn:
        return dict(conn.execute("SELECT certification_id, expected FROM devstack.seed_truth"))


def _decided(stack, run_id: str) -> dict[int, tuple[str | None, str | None]]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT certification_id, decision, reason FROM badging.staged_certification"
            " WHERE run_id = %s AND decision IS DISTINCT FROM 'quarantined'", (run_id,))}


def _ineligible_audit(stack, run_id: str) -> list[tuple[int, str]]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT certification_id, reason FROM badging.audit_log"
                            " WHERE run_id = %s AND event = 'ineligible'", (run_id,)).fetchall()


def test_each_validated_row_gets_the_reason_it_was_built_for(seeded, validated):
    counts = decide(validated, badging=seeded.dsn("badging"))
    truth = _truth(seeded)
    decided = _decided(seeded, validated.run_id)
    expected = {cert: ("ineligible", truth[cert].split(":", 1)[1])
                if truth[cert].startswith("ineligible:") else (None, None) for cert in decided}
    assert decided == expected
    # Eligible here includes the seed's duplicates: plan tells them apart from the ledger.
    assert counts == dict(Counter(reason or "eligible" for _, reason in decided.values()))
    assert {"eligible", "vendor_badge", "no_aligned_program"} <= set(counts)


def test_each_ineligible_row_is_audited_once_however_often_it_is_decided(seeded, validated):
    decide(validated, badging=seeded.dsn("badging"))
    first = _ineligible_audit(seeded, validated.run_id)
    decide(validated, badging=seeded.dsn("badging"))
    assert sorted(_ineligible_audit(seeded, validated.run_id)) == sorted(first)
    decided = _decided(seeded, validated.run_id)
    assert sorted(first) == sorted((cert, reason) for cert, (decision, reason)
                                   in decided.items() if decision == "ineligible")


def test_the_program_launch_param_moves_rows_to_before_program_launch(seeded, validated):
    usual = decide(validated, badging=seeded.dsn("badging"))
    later = decide(validated, program_launch=DAY + timedelta(days=1),
                   badging=seeded.dsn("badging"))
    # The launch rule comes before the template and opt-out rules, after all the others.
    moved = ("eligible", "before_program_launch", "no_badge_template", "opted_out")
    assert "eligible" not in later
    assert later["before_program_launch"] == sum(usual.get(name, 0) for name in moved)
    assert {k: v for k, v in later.items() if k != "before_program_launch"} == {
        k: v for k, v in usual.items() if k not in moved}
