"""The data-quality reports of a real DAG run: correction report, Data Docs, no personal data."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from devstack.seed import SeedParams, run_seed

DAY = date(2026, 5, 12)
SEED = SeedParams(date_from=date(2026, 4, 20), date_to=date(2026, 5, 14), rows=900,
                  dirty_rate=0.08, seed=11)
TERMINAL = ("quarantined", "ineligible", "issued", "already_issued", "failed", "would_issue")


# (site, outcome, reason, assessment code, program code); "" for a missing code.
Key = tuple[str, str, str, str, str]


class _Groups(HTMLParser):
    """The report's machine-readable rows: (site, outcome, reason, assessment, program) -> ids."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: dict[Key, list[int]] = {}
        self._key: Key | None = None
        self._in_ids = False

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "tr" and "group" in (found.get("class") or "").split():
            self._key = (found["data-site"], found["data-outcome"], found["data-reason"],
                         found["data-assessment"], found["data-program"])
        self._in_ids = tag == "td" and found.get("class") == "ids" and self._key is not None

    def handle_endtag(self, tag):
        if tag == "tr":
            self._key = None
        self._in_ids = False

    def handle_data(self, data):
        if self._in_ids and self._key:
            # One row per key: a second would be a grouping bug.
            assert self._key not in self.groups, self._key
            self.groups[self._key] = [int(x) for x in data.split()]


def _summary(stack) -> dict:
    with psycopg.connect(stack.dsn("badging"), row_factory=dict_row) as conn:
        return conn.execute("SELECT * FROM badging.run_summary WHERE logical_date = %s "
                            "ORDER BY updated_at DESC LIMIT 1", (DAY,)).fetchone()


def _expected_groups(stack, run_id: str) -> dict[Key, list[int]]:
    """From the audit log (outcomes) and CTIMS itself (codes), not from report code."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        events = conn.execute("""
            SELECT DISTINCT ON (certification_id) certification_id, event, reason,
                   detail -> 'expectations'
            FROM badging.audit_log
            WHERE run_id = %s AND certification_id IS NOT NULL AND event = ANY(%s)
            ORDER BY certification_id, audit_id DESC
        """, (run_id, list(TERMINAL))).fetchall()
    with psycopg.connect(stack.dsn("ctims")) as conn:
        codes = {row[0]: row[1:] for row in conn.execute(
            "SELECT certification_id, btrim(site_code), upper(btrim(assessment_code)),"
            " btrim(program_code) FROM ctims.realtime_certifications")}
    groups: dict[Key, list[int]] = defaultdict(list)
    for cert_id, event, reason, checks in events:
        if event not in ("quarantined", "ineligible"):
            continue
        key = ", ".join(sorted(checks)) if event == "quarantined" else reason
        site, assessment, program = codes[cert_id]
        groups[(site or "(no site code)", event, key, assessment or "", program or "")].append(
            cert_id)
    return {k: sorted(v) for k, v in groups.items()}


def _personal_data(stack) -> tuple[set[str], set[str]]:
    """Every seeded email, and every seeded full name and distinctive single name."""
    with psycopg.connect(stack.dsn("ctims")) as conn:
        people = conn.execute("SELECT first_name, last_name, email FROM ctims.students").fetchall()
    emails = {e.strip().lower() for _, _, e in people if e and e.strip()}
    names = set()
    for first, last, _ in people:
        first, last = (first or "").strip(), (last or "").strip()
        if first and last:
            names.add(f"{first} {last}")
        # Short names (Le, Kim, Ava) are ordinary substrings of HTML; long ones are not.
        names |= {n for n in (first, last) if len(n) >= 7}
    return emails, names


@pytest.fixture
def seeded(clean_stack):
    run_seed(SEED, clean_stack.dsn("ctims"), clean_stack.dsn("badging"))
    clean_stack.sync_templates()
    return clean_stack


def test_a_run_writes_reports_that_list_exactly_the_ledger_ids(seeded, run_dag):
    result = run_dag(DAY, lookback_days=3)
    assert result.succeeded, result.output[-4000:]
    row = _summary(seeded)
    report, docs = Path(row["report_location"]), Path(row["data_docs_location"])
    assert report.is_file()
    assert docs.is_file()
    assert report.is_relative_to(seeded.paths.reports)
    assert row["dq_success"]
    assert row["dq_reason"] is None

    parser = _Groups()
    parser.feed(report.read_text(encoding="utf-8"))
    expected = _expected_groups(seeded, row["run_id"])
    assert {k: sorted(v) for k, v in parser.groups.items()} == expected
    outcomes = {key[1] for key in expected}
    assert outcomes == {"quarantined", "ineligible"}
    assert sum(map(len, expected.values())) == row["quarantined"] + row["ineligible"]
    # The latest copy and the index point at the same day.
    folder = report.parents[1]
    assert (folder / "latest.html").read_text(encoding="utf-8") .count(row["run_id"]) >= 1
    assert DAY.isoformat() in (folder / "index.html").read_text(encoding="utf-8")
    assert "<svg" in report.read_text(encoding="utf-8")
    # The DAG's report task reads CTIMS's names through ctims_db: each known site's is there.
    with psycopg.connect(seeded.dsn("ctims")) as conn:
        site_names = dict(conn.execute("SELECT btrim(site_code), name FROM ctims.sites"))
    page = report.read_text(encoding="utf-8")
    known = {site for site, _, _, _, _ in expected} & set(site_names)
    assert known
    assert all(f"Site {site} {html.escape(site_names[site], quote=False)} — " in page
               for site in known)

    # Data Docs: the index lists this run, and there is a result page for each suite.
    index = docs.read_text(encoding="utf-8")
    assert f"{DAY.isoformat()}__" in index
    pages = list((docs.parent / "validations").rglob("*.html"))
    assert {p.relative_to(docs.parent / "validations").parts[0] for p in pages} >= {
        "realtime_rows", "realtime_rows_warnings", "realtime_table"}
    # The report links this run's three result pages.
    links = re.findall(r'href="([^"]*data_docs/validations/[^"]*)"', report.read_text("utf-8"))
    assert len(links) == 3
    assert all((report.parent / html.unescape(link)).resolve().is_file() for link in links)
    assert all(f"{DAY.isoformat()}__" in link for link in links)

    # No seeded email or name anywhere under the report location.
    emails, names = _personal_data(seeded)
    for path in seeded.paths.reports.rglob("*"):
        if not path.is_file() or path.suffix not in (".html", ".json", ".js", ".txt", ".svg"):
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        assert not [e for e in emails if e in text], f"an email in {path}"
        if "static" not in path.parts:
            assert not [n for n in names if n in text], f"a name in {path}"
