"""The morning list's content: a site's ids to fix, each reason's action, a console link."""

from __future__ import annotations

import smtplib
from datetime import date, datetime

from badging.core.constants import Reason
from badging.core.run import AGENCY_TZ, RunInfo
from badging.notify.expiring import ExpiringRow
from badging.notify.site_lists import console_url, entries_to_fix, error_name, render_list
from badging.reports.actions import REASON_ACTIONS
from badging.reports.correction import NO_SITE, CorrectionData, SiteSection
from badging.reports.correction_page import Coded

DAY = date(2026, 5, 12)
SITE = "425416001"


def _data() -> CorrectionData:
    run = RunInfo("manual__2026-05-13", DAY, datetime(2026, 5, 9, tzinfo=AGENCY_TZ),
                  datetime(2026, 5, 13, tzinfo=AGENCY_TZ), dry_run=False)
    site = SiteSection(SITE)
    site.groups[("quarantined", "email_well_formed", "WELD10001", "P100")] += [12, 7]
    site.groups[("ineligible", "no_aligned_program", "WELD10001", "P100")] += [30]
    site.groups[("ineligible", "opted_out", "WELD10001", "P100")] += [31]
    site.warnings["entered_more_than_once"] += [40]
    only_info = SiteSection("111111111")
    only_info.groups[("ineligible", "vendor_badge", "WELD10001", "P100")] += [50]
    no_site = SiteSection(NO_SITE)
    no_site.groups[("quarantined", "site_code_present", "WELD10001", "P100")] += [60]
    sections = {s.site: s for s in (site, only_info, no_site)}
    return CorrectionData(run, sections, [], [])


def test_only_sites_with_something_to_fix_get_a_list_and_only_those_entries():
    entries = entries_to_fix(_data())
    assert list(entries) == [SITE]
    # Quarantined first; "Nothing: ..." rows (opted out) and warnings are not entries to fix.
    assert [(g.outcome, g.reason, g.ids) for g in entries[SITE]] == [
        ("quarantined", "email_well_formed", [7, 12]),
        ("ineligible", "no_aligned_program", [30])]


def test_the_list_names_ids_reasons_actions_and_the_sites_console_page():
    groups = entries_to_fix(_data())[SITE]
    subject, body = render_list(SITE, DAY, groups, "https://airflow.example/")
    assert subject == f"CTIMS: 3 Real-Time entries to correct at site {SITE} (2026-05-12)"
    assert "Certification ids: 7 12" in body
    assert "Certification ids: 30" in body
    assert "31" not in body.replace(SITE, "")
    # The correction report's own action texts, escaped as HTML.
    assert REASON_ACTIONS[Reason.NO_ALIGNED_PROGRAM].replace("'", "&#39;") in body
    assert "one @, no spaces" in body
    assert f'href="https://airflow.example/badging/sites/{SITE}"' in body
    assert "Tuesday 12 May 2026" in body


def test_one_entry_is_singular():
    site = SiteSection(SITE)
    site.groups[("ineligible", "duplicate_entry", "WELD10001", "P100")] += [9]
    data = CorrectionData(_data().run, {SITE: site}, [], [])
    subject, _ = render_list(SITE, DAY, entries_to_fix(data)[SITE], "http://x")
    assert "1 Real-Time entry to correct" in subject


EXPIRING = [ExpiringRow(81, Coded("WELD10001", "Welding & Cutting"),
                        Coded("P100", "Welding Technology"), date(2026, 6, 30)),
            ExpiringRow(82, Coded("FOOD20002", None), Coded(None), date(2026, 7, 1))]


def test_the_month_s_first_list_names_the_badges_expiring_soon_by_id_and_names():
    groups = entries_to_fix(_data())[SITE]
    subject, body = render_list(SITE, DAY, groups, "http://x", EXPIRING)
    assert subject == (f"CTIMS: 3 Real-Time entries to correct at site {SITE} and 2 badges "
                       "expiring within 60 days (2026-05-12)")
    assert "Expiring within 60 days (2)" in body
    assert "<td>81</td><td>Welding &amp; Cutting (WELD10001)</td>" in body
    assert "<td>Welding Technology (P100)</td><td>2026-06-30</td>" in body
    assert "<td>82</td><td> (FOOD20002)</td><td></td><td>2026-07-01</td>" in body


def test_a_site_with_nothing_to_fix_gets_only_the_monthly_section():
    subject, body = render_list(SITE, DAY, [], "http://x", EXPIRING[:1])
    assert subject == f"CTIMS: 1 badge expiring within 60 days at site {SITE} (2026-05-12)"
    assert "cannot earn a Credly badge" not in body
    assert "<td>81</td>" in body
    assert "expiring" not in render_list(SITE, DAY, entries_to_fix(_data())[SITE], "x")[1]


def test_console_url_quotes_the_site_code():
    assert console_url("http://h:8080/", "12 3/4") == "http://h:8080/badging/sites/12%203%2F4"


def test_a_delivery_error_is_named_by_class_and_code_never_by_its_text():
    refused = smtplib.SMTPRecipientsRefused({"someone@school.example": (550, b"no such user")})
    assert error_name(refused) == "SMTPRecipientsRefused (SMTP 550)"
    assert error_name(ConnectionRefusedError(111, "Connection refused")) == \
        "ConnectionRefusedError"
    assert "someone" not in error_name(smtplib.SMTPSenderRefused(553, b"x", "someone@x.example"))
