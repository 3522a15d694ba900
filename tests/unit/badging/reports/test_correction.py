"""The correction report page: self-contained, grouped by site and reason, a 30-day chart."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

from badging.core.constants import Reason
from badging.core.run import AGENCY_TZ, RunInfo
from badging.pipeline.extract import Names
from badging.reports.actions import CHECK_ACTIONS, REASON_ACTIONS
from badging.reports.chart import geometry, nice_step
from badging.reports.correction import AcceptanceRow, CorrectionData, SiteSection, report_path
from badging.reports.correction_page import (
    Coded,
    GroupRow,
    RevokedRow,
    WarningRow,
    chart,
    index_view,
    render,
    report_view,
)

DAY = date(2026, 5, 12)
HERE = Path(__file__).resolve().parent
EXPECTATIONS = HERE.parents[3] / "include" / "expectations"
# The whole page for _awkward_data(); after an intended change to the page, regenerate it:
#   python -c "import tests.unit.badging.reports.test_correction as t; t.write_golden()"
GOLDEN_PAGE = HERE / "golden" / "correction_report.html"


def _data(days: int = 30) -> CorrectionData:
    run = RunInfo("scheduled__2026-05-12T05:00:00+00:00", DAY,
                  datetime(2026, 5, 9, tzinfo=AGENCY_TZ), datetime(2026, 5, 13, tzinfo=AGENCY_TZ),
                  dry_run=False)
    site = SiteSection("425416001")
    site.groups[("quarantined", "email_well_formed", "CTTC12345", "P100")] += [12, 7]
    site.groups[("ineligible", "no_aligned_program", "CTTC12345", "P100")] += [30]
    site.warnings["entered_more_than_once"] += [40, 41]
    history = [{"logical_date": DAY - timedelta(days=n), "run_id": f"r{n}", "staged": 100,
                "issued": 60 + n, "already_issued": 0, "quarantined": 5, "ineligible": 35,
                "ineligible_by_reason": {"vendor_badge": 20, "opted_out": 15},
                "dq_success": n != 3, "warned": 2}
               for n in reversed(range(days))]
    return CorrectionData(run, {site.site: site}, ["realtime_table: row_count_collapsed"],
                          history)


def test_the_page_is_self_contained_and_grouped():
    page = render(_data())
    assert "<script" not in page
    assert not re.search(r"(src|href)=\"https?://", page)
    assert 'data-site="425416001" data-outcome="quarantined" data-reason="email_well_formed" ' \
        'data-assessment="CTTC12345" data-program="P100"' in page
    assert "7 12" in page  # ids sorted
    assert "Data quality alert" in page
    assert "entered_more_than_once" in page


def test_the_chart_has_a_bar_segment_per_series_and_day():
    svg = chart(_data(30).history)
    assert svg.count("<rect") == 30 * 4  # issued, quarantined and two reasons
    assert "ineligible: vendor_badge" in svg
    assert chart([]) == "<p>No runs yet.</p>"


def test_report_paths_are_file_name_safe():
    assert report_path(DAY, "manual__2026-05-12T00:00:00+00:00") == \
        "correction/2026-05-12/manual__2026-05-12T00_00_00_00_00.html"


def _awkward_data() -> CorrectionData:
    """Three days, a dry run, Data Docs links and markup characters in every string field."""
    data = _data(3)
    data.run = dataclasses.replace(data.run, dry_run=True, run_id="manual__<&>\"'")
    data.docs_pages = {"realtime_rows": "data_docs/x & y.html", "a<b": "q\"z.html"}
    data.dq_problems = []
    site = SiteSection("<x&y>")
    site.groups[("ineligible", "vendor_badge", "CTTC9", None)] += [5]
    site.groups[("ineligible", "vendor_badge", "CTTC10", "P<1>")] += [3]
    site.groups[("quarantined", "email_present, site_code_present", None, None)] += [9]
    site.warnings['weird"check'] += [1]
    site.revocations.append((52, "odd<reason>", "would_revoke"))
    data.sites[site.site] = site
    data.sites["425416001"].revocations += [(51, "deleted", "held"),
                                            (50, "entry_removed", "revoked")]
    # CTIMS knows some codes; a name is plain text, escaped like everything else.
    data.names = Names(sites={"425416001": "Canadian Valley Tech — El Reno"},
                       programs={"P100": "Welding <Advanced> & Fabrication"},
                       assessments={"CTTC12345": "NCCER Welding Level 1", "CTTC9": "A\"B"})
    return data


def write_golden() -> None:
    GOLDEN_PAGE.parent.mkdir(exist_ok=True)
    GOLDEN_PAGE.write_text(render(_awkward_data()), encoding="utf-8")


def test_one_whole_page_renders_as_recorded():
    assert render(_awkward_data()) == GOLDEN_PAGE.read_text(encoding="utf-8")


def test_every_string_is_escaped():
    page = render(_awkward_data())
    assert "<x&y>" not in page
    assert "&lt;x&amp;y&gt;" in page
    assert "manual__&lt;&amp;&gt;&#34;&#39;" in page
    assert 'href="../data_docs/x &amp; y.html"' in page
    assert "Welding &lt;Advanced&gt; &amp; Fabrication" in page
    assert "<code>P&lt;1&gt;</code>" in page


def test_names_stand_beside_their_codes():
    page = render(_awkward_data())
    assert "Site 425416001 Canadian Valley Tech — El Reno — 3 to review" in page
    assert '<a href="#site-425416001">425416001</a> Canadian Valley Tech — El Reno</td>' in page
    assert "<code>CTTC12345</code> NCCER Welding Level 1" in page
    assert "<code>P100</code> Welding &lt;Advanced&gt; &amp; Fabrication" in page
    # Unknown codes stand alone; a missing code says so.
    assert "<td><code>CTTC10</code></td>" in page
    assert '<td><span class="muted">none</span></td>' in page


def test_the_view_holds_the_counts_groups_and_actions():
    view = report_view(_awkward_data(), up="../../")
    assert view.dry_run
    assert view.index_href == "../../correction/index.html"
    assert view.docs_links == [("a<b", '../../q"z.html'),
                               ("realtime_rows", "../../data_docs/x & y.html")]
    assert (view.quarantined, view.ineligible, view.sites_to_review) == (3, 3, 2)
    assert view.by_reason == [("ineligible", "vendor_badge", 2),
                              ("quarantined", "email_well_formed", 2),
                              ("ineligible", "no_aligned_program", 1),
                              ("quarantined", "email_present, site_code_present", 1)]
    # Most entries to fix first; a vendor badge is nothing anyone can fix.
    assert view.glance == [("425416001", "Canadian Valley Tech — El Reno", 3, 3, 2),
                           ("<x&y>", None, 1, 3, 1)]
    assert [(s.site, s.name) for s in view.sites] == [
        ("425416001", "Canadian Valley Tech — El Reno"), ("<x&y>", None)]
    welding = Coded("CTTC12345", "NCCER Welding Level 1")
    program = Coded("P100", "Welding <Advanced> & Fabrication")
    assert view.sites[0].groups == [
        GroupRow("quarantined", "email_well_formed", CHECK_ACTIONS["email_well_formed"],
                 [7, 12], "fix", welding, program),
        GroupRow("ineligible", "no_aligned_program", REASON_ACTIONS[Reason.NO_ALIGNED_PROGRAM],
                 [30], "", welding, program)]
    site = view.sites[1]
    assert site.groups == [
        GroupRow("quarantined", "email_present, site_code_present",
                 "Enter the student's email address in CTIMS. Enter the nine-digit site code.",
                 [9], "fix"),
        GroupRow("ineligible", "vendor_badge", REASON_ACTIONS[Reason.VENDOR_BADGE], [3],
                 "info", Coded("CTTC10"), Coded("P<1>")),
        GroupRow("ineligible", "vendor_badge", REASON_ACTIONS[Reason.VENDOR_BADGE], [5],
                 "info", Coded("CTTC9", 'A"B'), Coded(None))]
    assert site.warnings == [WarningRow('weird"check', "Check the entry.", [1])]


def test_the_index_lists_runs_newest_first():
    view = index_view(_data(3))
    assert [row.day for row in view.rows] == [DAY, DAY - timedelta(days=1),
                                              DAY - timedelta(days=2)]
    assert view.rows[0].href == "2026-05-12/r0.html"
    assert [row.dq_ok for row in view.rows] == [True, True, True]


def test_the_chart_geometry_stacks_each_day_under_a_round_top():
    history = _data(30).history
    chart_ = geometry(history)
    assert chart_ is not None
    assert len(chart_.bars) == 30
    assert [value for _y, value in chart_.ticks] == [0, 50, 100, 150, 200]  # days total 100
    first = chart_.bars[0].segments
    assert [s.title for s in first] == [f"{DAY - timedelta(days=29)}: issued 89",
                                        f"{DAY - timedelta(days=29)}: quarantined 5",
                                        f"{DAY - timedelta(days=29)}: ineligible: opted_out 15",
                                        f"{DAY - timedelta(days=29)}: ineligible: vendor_badge 20"]
    # Stacked: each segment sits on the one below, the first on the axis (y = 254).
    assert first[0].y + first[0].height == 254
    for lower, upper in pairwise(first):
        assert abs(upper.y + upper.height - lower.y) < 1e-9
    assert all(bar.label is not None for bar in chart_.bars)
    assert [name for name, _colour in chart_.legend][:2] == ["issued", "quarantined"]
    assert geometry([]) is None
    assert [nice_step(x) for x in (0.3, 1, 3, 7, 26, 120)] == [1, 1, 5, 10, 50, 200]


def test_every_reason_and_row_check_has_an_action():
    assert set(REASON_ACTIONS) == set(Reason)
    checks = set()
    for suite in ("realtime_rows", "realtime_rows_warnings"):
        for item in json.loads((EXPECTATIONS / f"{suite}.json").read_text())["expectations"]:
            meta = item.get("meta") or {}
            if not meta.get("table_level"):
                checks.add(meta["check"])
    assert set(CHECK_ACTIONS) == checks


def test_badges_revoked_after_corrections_are_listed_per_site_with_their_state():
    view = report_view(_awkward_data())
    assert view.sites[0].revocations == [
        RevokedRow(50, "entry_removed", REASON_ACTIONS[Reason.ENTRY_REMOVED], "revoked",
                   "revoked"),
        RevokedRow(51, "deleted", REASON_ACTIONS[Reason.DELETED], "held", "held for approval")]
    assert view.sites[1].revocations == [
        RevokedRow(52, "odd<reason>", "Check the entry.", "would_revoke",
                   "would be revoked (not a nightly run)")]
    assert view.revocations == [("revoked", 1), ("held for approval", 1),
                                ("would be revoked (not a nightly run)", 1)]
    # Not entries to fix: the glance and the counts to review stay as they were.
    assert [s.to_review for s in view.sites] == [3, 3]
    page = render(_awkward_data())
    assert page.count("<h4>Badges revoked after corrections</h4>") == 2
    assert '<tr class="revocation" data-site="425416001" data-state="revoked" ' \
        'data-reason="entry_removed"><td class="ids">50</td>' in page
    assert "odd&lt;reason&gt;" in page
    assert "odd<reason>" not in page


def test_a_run_that_revoked_nothing_has_no_revocation_section():
    page = render(_data())
    assert "revoked" not in page.lower()
    assert report_view(_data()).revocations == []


def test_the_chart_has_a_revoked_series_only_when_a_day_revoked():
    history = _data(3).history
    history[1]["revoked"] = 4
    chart_ = geometry(history)
    assert [name for name, _colour in chart_.legend][:3] == ["issued", "revoked", "quarantined"]
    assert [s.title for s in chart_.bars[1].segments][:2] == [
        f"{DAY - timedelta(days=1)}: issued 61", f"{DAY - timedelta(days=1)}: revoked 4"]
    # Days without revocations draw no empty segment.
    assert len(chart_.bars[0].segments) == 4
    assert "revoked" not in [name for name, _colour in geometry(_data(3).history).legend]


def test_the_chart_has_an_accepted_series_only_when_earners_accepted():
    history = _data(3).history
    history[2]["accepted"] = 9
    chart_ = geometry(history)
    assert [name for name, _colour in chart_.legend][:2] == ["issued", "accepted in Credly"]
    assert chart_.bars[2].segments[1].title == f"{DAY}: accepted in Credly 9"
    assert "accepted in Credly" not in [n for n, _c in geometry(_data(3).history).legend]


def test_each_site_shows_its_acceptance_unaccepted_badges_and_credly_changes():
    data = _data()
    site = data.sites["425416001"]
    site.acceptance.append(AcceptanceRow("P100", "CTTC12345", 10, 6, 2, 1, 1, 0.6, 2.5))
    site.unaccepted.append((77, "CTTC12345", 41))
    site.changed_in_credly.append((78, "CTTC12345", "deleted"))
    page = render(data)
    assert '<tr class="acceptance" data-site="425416001" data-program="P100" ' \
        'data-assessment="CTTC12345">' in page
    assert "60 %" in page
    assert "Badges not accepted 30 days after issue" in page
    assert '<tr class="unaccepted" data-site="425416001"><td class="ids">77</td>' in page
    assert '<tr class="changed-in-credly" data-site="425416001" data-state="deleted">' \
        '<td class="ids">78</td>' in page
    # A site without them has no such sections.
    assert "Badges in Credly" not in render(_data())


def test_the_summary_s_acceptance_adds_up_the_sites_rows():
    from badging.reports.correction import LedgerAcceptance

    rows = [("425416001", AcceptanceRow("P100", "CTTC12345", 20, 1, 15, 1, 1, 0.05, 2.0, 0)),
            ("425416001", AcceptanceRow("P200", "CTTC12345", 10, 0, 6, 0, 0, 0.0, None, 4)),
            ("802130004", AcceptanceRow("P100", "CTTC54321", 6, 0, 6, 0, 0, 0.0, None, 0))]
    ledger = LedgerAcceptance(rows, unaccepted=[("425416001", 7, "CTTC12345", 31)],
                              changed_in_credly=[], median_days=2.25)
    assert ledger.totals() == {
        "synced": 36, "accepted": 1, "pending": 27, "rejected": 1, "expired": 4,
        # 1 / 32 = 0.03125: half away from zero, as the rows' own rate is rounded in SQL.
        "acceptance_rate": 0.0313, "median_days_to_accept": 2.25, "unaccepted": 1,
        "changed_in_credly": 0}
    assert LedgerAcceptance([], [], [], None).totals()["acceptance_rate"] is None
