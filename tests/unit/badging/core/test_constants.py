"""The vocabulary: the SQL writes only its states, events and reasons, and all of its rules."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from badging.core.constants import (
    ADOPTION_REASONS,
    AGENCY_TIMEZONE,
    CORRECTION_REASONS,
    DAG_ID,
    DECISIONS,
    ELIGIBILITY_REASONS,
    ELIGIBLE,
    GATE_DECISIONS,
    GATE_PASSES,
    GATE_REASONS,
    ISSUE_REASONS,
    LIFECYCLE_REASONS,
    PLAN_REASONS,
    PROGRAM_LAUNCH,
    RECIPIENT_PROBLEMS,
    SYNC_REASONS,
    TERMINAL_EVENTS,
    CredlyState,
    Delivery,
    Event,
    FindingKind,
    Reason,
    RevocationCount,
    RevocationState,
    State,
)

SQL = Path(__file__).resolve().parents[4] / "include" / "sql"
# Which enum a column's literals belong to: a staged decision is an audit event name.
COLUMNS = {"state": State, "decision": Event, "event": Event, "reason": Reason,
           "delivery": Delivery, "revocation_state": RevocationState,
           "credly_state": CredlyState, "kind": FindingKind}
_NAMES = "state|decision|event|reason|delivery|revocation_state|credly_state|kind"
_COLUMN = rf"(?:\b\w+\.)?(?P<col>{_NAMES})\b|%\((?P<param>{_NAMES})\)s"
_LITERAL = r"'(?P<lit>[^']*)'"
# `col = 'x'`, `col <> 'x'`, `col IS [NOT] DISTINCT FROM 'x'`
COMPARED = re.compile(rf"(?:{_COLUMN})\s*(?:=|<>|!=|IS\s+(?:NOT\s+)?DISTINCT\s+FROM)\s*{_LITERAL}",
                      re.IGNORECASE)
# `col [NOT] IN ('x', 'y')`
LISTED = re.compile(rf"(?:{_COLUMN})\s+(?:NOT\s+)?IN\s*\((?P<list>[^()]*)\)", re.IGNORECASE)
# `SET col = CASE ... END` or `CASE ... END AS col`: the literals the CASE yields.
CASE_SET = re.compile(rf"\b(?P<col>{_NAMES})\s*=\s*CASE\b(?P<body>.*?)\bEND\b",
                      re.IGNORECASE | re.DOTALL)
CASE_AS = re.compile(rf"\bCASE\b(?P<body>(?:(?!\bCASE\b).)*?)\bEND\s+AS\s+(?P<col>{_NAMES})\b",
                     re.IGNORECASE | re.DOTALL)
YIELDED = re.compile(rf"\b(?:THEN|ELSE)\s+{_LITERAL}", re.IGNORECASE)


def _text(path: Path) -> str:
    """The file without its comments (they may name states in prose)."""
    return re.sub(r"--[^\n]*", "", path.read_text())


def literals(path: Path) -> list[tuple[str, str]]:
    """(column, literal) for every vocabulary literal the statement compares or writes."""
    text = _text(path)
    found = []
    for match in COMPARED.finditer(text):
        found.append(((match["col"] or match["param"]).lower(), match["lit"]))
    for match in LISTED.finditer(text):
        column = (match["col"] or match["param"]).lower()
        found += [(column, lit) for lit in re.findall(_LITERAL, match["list"])]
    for pattern in (CASE_SET, CASE_AS):
        for match in pattern.finditer(text):
            found += [(match["col"].lower(), lit) for lit in YIELDED.findall(match["body"])]
    return found


ALL_SQL = sorted(SQL.rglob("*.sql"))
ALL_LITERALS = {path.relative_to(SQL).as_posix(): literals(path) for path in ALL_SQL}


def _written(column: str) -> set[str]:
    return {lit for found in ALL_LITERALS.values() for col, lit in found if col == column}


def test_the_parser_sees_the_statements_that_write_the_vocabulary():
    # A guard on the regexes: these files must yield literals, or the checks below are empty.
    for name in ("pipeline/eligibility/decide.sql", "pipeline/plan/classify.sql",
                 "pipeline/plan/reset.sql", "pipeline/validate/mark_quarantined.sql",
                 "pipeline/issue/claim.sql", "pipeline/issue/finish_attempt.sql",
                 "pipeline/plan/reopen_failed.sql", "pipeline/report/run_counts.sql",
                 "core/migrations/badging/001_ledger.sql",
                 "lifecycle/revocation/finish_revocation.sql", "lifecycle/check/justification.sql",
                 "lifecycle/sync/apply.sql", "lifecycle/sync/live_badges.sql",
                 "lifecycle/check/observe.sql", "lifecycle/check/plan_revocations.sql",
                 "lifecycle/adoption/not_adopted.sql"):
        assert ALL_LITERALS[name], name


@pytest.mark.parametrize("name", sorted(ALL_LITERALS))
def test_every_literal_in_the_sql_is_in_the_vocabulary(name):
    for column, literal in ALL_LITERALS[name]:
        assert literal in COLUMNS[column].__members__.values(), \
            f"{name}: {column} {literal!r} is not a {COLUMNS[column].__name__}"


def test_decide_sql_applies_exactly_the_eligibility_reasons_in_order():
    text = _text(SQL / "pipeline" / "eligibility" / "decide.sql")
    case = CASE_AS.search(text)
    assert case
    assert case["col"] == "reason"
    assert tuple(YIELDED.findall(case["body"])) == tuple(str(r) for r in ELIGIBILITY_REASONS)


def test_classify_sql_gives_exactly_the_plan_reasons():
    reasons = {lit for col, lit in ALL_LITERALS["pipeline/plan/classify.sql"] if col == "reason"}
    assert reasons == {str(r) for r in PLAN_REASONS}


def test_the_sql_writes_every_reason_of_the_rules_and_no_other():
    assert _written("reason") == {str(r) for r in (*ELIGIBILITY_REASONS, *PLAN_REASONS,
                                                   *LIFECYCLE_REASONS, *CORRECTION_REASONS,
                                                   *SYNC_REASONS, *GATE_REASONS)}


def test_every_reason_is_given_by_a_rule_or_by_issue():
    assert set(Reason) == {*ELIGIBILITY_REASONS, *PLAN_REASONS, *ISSUE_REASONS,
                           *LIFECYCLE_REASONS, *CORRECTION_REASONS, *SYNC_REASONS,
                           *RECIPIENT_PROBLEMS, *ADOPTION_REASONS, *GATE_REASONS}


def test_the_staged_decisions_are_exactly_the_decision_events():
    assert _written("decision") == {str(e) for e in DECISIONS}
    assert set(DECISIONS) <= TERMINAL_EVENTS | {Event.PLANNED}


def test_the_ledger_check_constraint_allows_exactly_the_states():
    text = _text(SQL / "core" / "migrations" / "badging" / "001_ledger.sql")
    check = re.search(r"CHECK\s*\(\s*state\s+IN\s*\((?P<list>[^)]*)\)", text)
    assert check
    assert set(re.findall(_LITERAL, check["list"])) == {str(s) for s in State}


def test_the_revocation_check_constraint_allows_exactly_the_revocation_states():
    # 007 widened 006's constraint for the corrections' ends.
    text = _text(SQL / "core" / "migrations" / "badging" / "007_recipient_corrections.sql")
    check = re.search(r"CHECK\s*\(\s*revocation_state\s+IN\s*\((?P<list>[^)]*)\)", text)
    assert check
    assert set(re.findall(_LITERAL, check["list"])) == {str(s) for s in RevocationState}


def test_the_credly_state_check_constraint_allows_exactly_the_credly_states():
    text = _text(SQL / "core" / "migrations" / "badging" / "008_credly_sync.sql")
    check = re.search(r"CHECK\s*\(\s*credly_state\s+IN\s*\((?P<list>[^)]*)\)", text)
    assert check
    assert set(re.findall(_LITERAL, check["list"])) == {str(s) for s in CredlyState}


def test_the_approval_check_constraint_allows_exactly_the_gate_decisions():
    text = _text(SQL / "core" / "migrations" / "badging" / "003_approvals.sql")
    check = re.search(r"CHECK\s*\(\s*event\s+IN\s*\((?P<list>[^)]*)\)", text)
    assert check
    assert set(re.findall(_LITERAL, check["list"])) == {str(e) for e in GATE_DECISIONS}
    assert set(GATE_DECISIONS) > GATE_PASSES


def test_the_site_list_check_constraint_allows_exactly_the_deliveries():
    text = _text(SQL / "core" / "migrations" / "badging" / "005_notifications.sql")
    check = re.search(r"CHECK\s*\(\s*delivery\s+IN\s*\((?P<list>[^)]*)\)", text)
    assert check
    assert set(re.findall(_LITERAL, check["list"])) == {str(d) for d in Delivery}


def test_the_contract_names_and_dates():
    # Pinned here, once, apart from their definition: changing one is a contract change.
    assert DAG_ID == "credly_badge_issuance"
    assert AGENCY_TIMEZONE == "America/Chicago"
    assert date(2022, 12, 1) == PROGRAM_LAUNCH


def test_the_eligibility_counts_name_a_badge_earning_row_as_the_vocabulary_does():
    counts = _text(SQL / "pipeline" / "eligibility" / "counts.sql")
    assert re.findall(r"coalesce\(reason,\s*'([^']*)'\)", counts) == [ELIGIBLE]


def _calls(text: str, function: str) -> list[str]:
    """The argument text of every call of `function` in `text` (parentheses balanced)."""
    found = []
    for start in (m.end() for m in re.finditer(rf"\b{function}\(", text)):
        depth, end = 1, start
        while depth:
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        found.append(text[start:end - 1])
    return found


def test_the_revocation_counts_jsonb_keys_are_the_vocabulary():
    # Every key pipeline/report/revocations.sql builds into run_summary.revocations, and no
    # other: the summary and the correction report read them by RevocationCount.
    text = _text(SQL / "pipeline" / "report" / "revocations.sql")
    objects = _calls(text, "jsonb_build_object")
    keys = {key for body in objects for key in re.findall(r"(?:^|,)\s*'([a-z_]+)',", body)}
    assert keys == {str(k) for k in RevocationCount}
