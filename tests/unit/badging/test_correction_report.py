"""The correction report page: self-contained, grouped by site and reason, a 30-day chart."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from badging.correction_report import CorrectionData, SiteSection, chart, render, report_path
from badging.run import AGENCY_TZ, RunInfo

DAY = date(2026, 5, 12)


def _data(days: int = 30) -> CorrectionData:
    run = RunInfo("scheduled__2026-05-12T05:00:00+00:00", DAY,
                  datetime(2026, 5, 9, tzinfo=AGENCY_TZ), datetime(2026, 5, 13, tzinfo=AGENCY_TZ),
                  dry_run=False)
    site = SiteSection("425416001")
    site.groups[("quarantined", "email_well_formed")] += [12, 7]
    site.groups[("ineligible", "no_aligned_program")] += [30]
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
    assert 'data-site="425416001" data-outcome="quarantined" data-reason="email_well_formed"' \
        in page
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
