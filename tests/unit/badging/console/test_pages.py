"""The console's pages render every part of a trail, a run and a site (templates/console)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from badging.console.access import Viewer
from badging.console.links import Links
from badging.console.runs import RunRow, SiteItem, SiteRow
from badging.console.trail import AuditStep, Badge, Correction, Staged, Trail
from badging.pipeline.extract import Names
from badging.reports.templates import templates

LINKS = Links.from_root_path("/badging", "/badging")
OPERATOR = Viewer("operator", operator=True)
AT = datetime(2026, 5, 13, 6, tzinfo=UTC)


def _render(template: str, **values) -> str:
    # As the console renders every page: the viewer (an operator unless a test says) and the
    # CTIMS names of the codes shown (console/names.py).
    values = {"viewer": OPERATOR, "names": Names()} | values
    return templates().get_template(f"console/{template}").render(
        links=LINKS, path="/badging/", title="t", retention_days=14, **values)


def _trail() -> Trail:
    staged = Staged("r1", date(2026, 5, 12), AT, "quarantined", None, "Enter the email.",
                    ["email_present"], "CTTC1", "123456789", "P1", date(2026, 5, 1), False,
                    "Z*** S***", "z***@example.org", LINKS.run("r1"))
    steps = [AuditStep(AT, "r1", date(2026, 5, 12), "validate", -1, 1, "quarantined", None,
                       "Enter the email.", {"expectations": ["email_present"]}, "", ""),
             AuditStep(AT, "r1", None, "issue", 2, 1, "issue_attempt", None, None,
                       {"attempt": 1}, "", "")]
    badge = Badge({"assessment_code": "CTTC1", "state": "revoked", "credly_badge_id": "b",
                   "attempts": 1, "last_error": None, "planned_run_id": "r1",
                   "issued_run_id": "r1", "issued_at": AT}, "revoked", False,
                  {"r1": LINKS.run("r1")})
    correction = Correction({"action": "replace", "revocation_state": "replaced",
                             "reason": "name_corrected", "credly_badge_id": "b",
                             "replacement_badge_id": "c", "run_id": "r1", "revoked_at": None,
                             "updated_at": AT}, {"r1": LINKS.run("r1")})
    return Trail(7, "Badge revoked.", "Nothing.", [staged], steps, [badge], [correction], 14)


@pytest.mark.parametrize("trails", [[], [Trail(8, "No run has seen it.", None)]])
def test_the_lookup_renders_empty_and_unknown(trails):
    assert "Why did this student get no badge?" in _render(
        "lookup.html.j2", trails=trails, typed=8, kind="certification")


def test_the_lookup_renders_every_section_of_a_trail():
    html = _render("lookup.html.j2", trails=[_trail()], typed="5", kind="student")
    for text in ('id="certification-7"', "Badge revoked.", "What to do: Nothing.",
                 "email_present", "z***@example.org", "replaced", "issue[2]", "attempt=1",
                 'value="5"'):
        assert text in html, text


def test_runs_sites_and_the_unavailable_page_render():
    run = RunRow({"run_id": "r1", "logical_date": date(2026, 5, 12), "dry_run": False,
                  "staged": 3, "quarantined": 1, "ineligible": 1, "issued": 1,
                  "already_issued": 0, "failed": 0, "still_pending": 0, "would_issue": 0, "held": 0,
                  "dq_success": False, "dq_reason": "too many failures"},
                 LINKS.run("r1"), LINKS.correction_report("r1"), LINKS.data_docs("r1"))
    html = _render("runs.html.j2", runs=[run])
    assert "/badging/runs/r1/correction-report" in html
    assert "too many failures" in html
    site = SiteRow("123456789", 2, 1, 0, "r1", date(2026, 5, 12), "/x#site-123456789")
    assert "<b>3</b>" in _render("sites.html.j2", sites=[site])
    assert "cannot read the badging database" in _render("unavailable.html.j2", problem="x")


def test_a_sites_page_lists_its_open_items_with_what_to_do():
    item = SiteItem(180, "quarantined", "email_present", "Enter the email.", "CTTC1", "P1",
                    date(2026, 5, 12), "r1", LINKS.certification(180), LINKS.run("r1"))
    site = SiteRow("123456789", 1, 0, 0, "r1", date(2026, 5, 12), "/x#site-123456789")
    html = _render("site.html.j2", site=site, site_code="123456789", items=[item])
    assert '<a href="/badging/?certification_id=180">180</a>' in html
    assert "Enter the email." in html
    assert "Nothing open." in _render("site.html.j2", site=None, site_code="1", items=[])


def test_the_morning_lists_link_is_the_sites_page():
    from badging.notify.site_lists import console_url

    assert console_url("https://airflow.example.org/", "012345678") == \
        "https://airflow.example.org/badging/sites/012345678"
