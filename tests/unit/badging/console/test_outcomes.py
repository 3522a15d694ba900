"""The Outcomes page's filters, figures, CSV and page (console/outcomes.py, docs/outcomes.md)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from badging.console.access import Viewer
from badging.console.act import Instructor, SiteWaits, Waiting
from badging.console.links import Links
from badging.console.outcome_charts import charts
from badging.console.outcomes import (
    CSV_COLUMNS,
    OUTCOMES,
    Figures,
    Filters,
    Group,
    Outcomes,
    csv_filename,
    csv_header,
    csv_statement,
)
from badging.outcomes import calendar
from badging.pipeline.extract import Names
from badging.reports.templates import templates

LINKS = Links.from_root_path("/badging", "/badging")
TODAY = date(2026, 3, 9)


def test_filters_default_to_the_current_school_year_and_round_trip_in_the_url():
    assert Filters.from_query({}, TODAY) == Filters(year=2025)
    chosen = Filters.from_query({"year": "2025-26", "month": "2026-02", "site": "123456789",
                                 "cluster": "47", "assessment": "cttc12345",
                                 "outcome": "accepted", "program": "P1"}, TODAY)
    assert chosen.assessment == "CTTC12345"
    assert chosen.month == date(2026, 2, 1)
    query = dict(pair.split("=") for pair in chosen.query().lstrip("?").split("&"))
    assert Filters.from_query(query, TODAY) == chosen
    assert Filters.from_query({"year": "all"}, TODAY).year is None
    assert Filters.from_query({"month": "2025-08"}, TODAY).year == 2025
    assert chosen.narrow("month", "2025-09") == chosen.query(month=date(2025, 9, 1))
    assert chosen.narrow("site", "") is None


@pytest.mark.parametrize("query", [
    {"year": "2025-27"}, {"month": "2026-13"}, {"year": "2024-25", "month": "2026-02"},
    {"site": "12345"}, {"site": "12345678x"}, {"cluster": "4"}, {"outcome": "deleted"},
    {"program": "P 1"}, {"assessment": "x" * 41}, {"program": "'; DROP"}])
def test_a_filter_that_is_not_one_is_refused(query):
    with pytest.raises(ValueError, match=f"^({'|'.join(query)})|school year"):
        Filters.from_query(query, TODAY)


def test_figures_rate_and_median():
    figures = Figures()
    bins = dict.fromkeys(calendar.BIN_COLUMNS, 0)
    figures.add({"credly_state": "accepted", "badges": 3, **bins, "d1": 2, "d3": 1})
    figures.add({"credly_state": "pending", "badges": 1, **bins})
    figures.add({"credly_state": "revoked", "badges": 2, **bins})
    assert figures.issued == 6
    assert figures.acceptance_rate == 0.75  # 3 accepted of 4 standing (6 less 2 revoked)
    assert figures.median_days_to_accept == 1
    assert figures.to_json()["rejected"] == 0
    assert Figures().acceptance_rate is None


SQL = Path(__file__).resolve().parents[4] / "include" / "sql" / "console"


def test_the_csv_has_codes_names_and_a_student_id_for_operators_only():
    assert csv_header(False) == list(CSV_COLUMNS)
    assert csv_header(True) == [*CSV_COLUMNS, "student_id"]
    for column in ("certification_id", "school_year", "issued_on", "outcome", "accepted_on",
                   "site_code", "site_name", "program_code", "program_name", "cip_code",
                   "cluster", "assessment_code", "assessment_name", "entered_by"):
        assert column in CSV_COLUMNS
    assert not {"first_name", "last_name", "email", "name"} & set(CSV_COLUMNS)
    # Postgres writes the header from the statement's columns: they are CSV_COLUMNS, in order.
    text = (SQL / "outcomes_badges.sql").read_text()
    final = "SELECT badge" + re.sub(r"--[^\n]*", "", text).rsplit("SELECT badge", 1)[1]
    assert re.findall(r"\bAS (\w+)", final.split("FROM badge")[0]) == list(CSV_COLUMNS)


@pytest.mark.parametrize("with_students", [True, False])
def test_the_student_id_is_a_column_of_the_operators_csv_only(with_students):
    statement = csv_statement(with_students).as_string()
    assert statement.startswith("COPY (")
    assert (", badge.student_id" in statement) is with_students
    assert "{student_id}" not in statement


def test_the_csv_file_is_named_after_its_filter():
    assert csv_filename(Filters(year=2025, site="123456789", cluster="47")) == \
        "badges_2025-26_123456789_cip47.csv"
    assert csv_filename(Filters()) == "badges_all.csv"


def _outcomes() -> Outcomes:
    bins = dict.fromkeys(calendar.BIN_COLUMNS, 0)

    def figures(**counts) -> Figures:
        made = Figures()
        for state, n in counts.items():
            made.add({"credly_state": state, "badges": n, **bins, "d2": n * (
                state == "accepted")})
        return made

    groups = {
        "month": [Group("2025-09", "September 2025", figures(accepted=4, pending=2)),
                  Group("2025-10", "October 2025", Figures())],
        "site": [Group("123456789", "Tri County", figures(accepted=4, pending=2))],
        "program": [Group("P1", "Welding", figures(accepted=4, pending=2))],
        "cluster": [Group("48", "Precision Production", figures(accepted=4, pending=2))],
        "assessment": [Group("AWS1", None, figures(accepted=4, pending=2))]}
    return Outcomes(Filters(year=2025), figures(accepted=4, pending=2), groups, [2025], None)


@pytest.mark.parametrize("operator", [True, False])
def test_the_outcomes_page_renders_figures_names_charts_and_its_links(operator):
    found = _outcomes()
    viewer = Viewer("u", operator, frozenset() if operator else frozenset({"123456789"}))
    from badging.console.outcome_charts import COLOURS

    html = templates().get_template("console/outcomes.html.j2").render(
        links=LINKS, path="/badging/outcomes", title="t", retention_days=14, viewer=viewer,
        names=Names(), o=found, charts=charts(found), filters=found.filters,
        colours=COLOURS, outcomes=OUTCOMES)
    for text in ("Tri County", "Precision Production", "66.7%", "<svg", "September 2025",
                 "/badging/outcomes.csv?year=2025-26", "/badging/api/outcomes?year=2025-26",
                 "?year=2025-26&amp;site=123456789", "?year=2025-26&amp;cluster=48"):
        assert text in html, text
    assert ("at your sites" in html) is not operator
    assert ('href="/badging/runs"' in html) is operator
    assert "<script" not in html


def test_a_sites_page_lists_what_waits_per_instructor():
    person = Instructor("jsmith789", [Waiting(11, "unaccepted_60", "65 days, CTTC1", "/l"),
                                      Waiting(12, "quarantined", "email_present", "/l")])
    html = templates().get_template("console/site.html.j2").render(
        links=LINKS, path="/badging/sites/1", title="t", retention_days=14,
        viewer=Viewer("c", False, frozenset({"123456789"})),
        names=Names(sites={"123456789": "Tri County"}), site=None, site_code="123456789",
        items=[], instructors=[person], waits=SiteWaits(after_60=1),
        kinds=("unaccepted_90", "unaccepted_60", "unaccepted_30", "quarantined",
               "ineligible", "held"))
    assert "Tri County" in html
    assert 'data-entered-by="jsmith789"' in html
    assert "<b>unaccepted_60</b>: 11" in html
    assert 'href="/badging/runs"' not in html
