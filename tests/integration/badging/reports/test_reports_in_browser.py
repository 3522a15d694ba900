"""The reports in a real Chromium with the network cut: styled, scripted, nothing fetched."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from badging.pipeline.eligibility import decide
from badging.pipeline.report import summarise
from badging.reports.location import ReportLocation

pytestmark = pytest.mark.browser

# Set by Bootstrap's stylesheet only (.navbar, .pl-5): an unstyled page has neither.
_BOOTSTRAPPED = """() => ({
    navbar: getComputedStyle(document.querySelector('nav.navbar')).display,
    padding: getComputedStyle(document.querySelector('.container-fluid')).paddingLeft,
})"""


@pytest.fixture
def reports(seeded, validated, tmp_path) -> Path:
    """The reports of a validated, decided dry run (no Credly): Data Docs and corrections."""
    decide(validated, badging=seeded.dsn("badging"))
    summarise(replace(validated, dry_run=True), max_failed_share=1.0,
              badging=seeded.dsn("badging"), ctims=seeded.dsn("ctims", user="ctims_reader"),
              location=ReportLocation(str(tmp_path)))
    return tmp_path


def _result_page(root: Path) -> str:
    [page] = (root / "data_docs" / "validations" / "realtime_rows").rglob("*.html")
    return page.relative_to(root).as_posix()


def test_the_data_docs_index_draws_its_table_offline(reports, serve_folder, offline_page):
    base = serve_folder(reports)
    for scheme in ("light", "dark"):
        view = offline_page(color_scheme=scheme)
        view.open(base + "data_docs/index.html")
        view.screenshot(f"data_docs_index_{scheme}")
        view.assert_stayed_local()
        # bootstrap-table (run by jQuery) wraps the index's table and fills its rows.
        rows = view.page.locator("div.bootstrap-table table tbody tr")
        assert rows.count() >= 3  # one per suite of the run
        assert "realtime_rows" in view.page.locator("div.bootstrap-table").first.inner_text()
        assert view.page.evaluate(_BOOTSTRAPPED) == {"navbar": "flex", "padding": "48px"}
        assert view.page.locator("nav.navbar a.navbar-brand").inner_text() == "Badging Data Docs"


def test_a_data_docs_result_page_is_styled_offline(reports, serve_folder, offline_page):
    base = serve_folder(reports)
    view = offline_page()
    view.open(base + _result_page(reports))
    view.screenshot("data_docs_realtime_rows")
    view.assert_stayed_local()
    assert view.page.evaluate(_BOOTSTRAPPED) == {"navbar": "flex", "padding": "48px"}
    # Our navbar leads back to the index.
    assert view.page.locator("nav.navbar a.navbar-brand").evaluate("a => a.href") \
        == base + "data_docs/index.html"
    # Font Awesome's icons drawn with its own font, loaded from static/vendor.
    icon = view.page.locator("i.fas").first
    assert "Font Awesome 6 Free" in icon.evaluate("e => getComputedStyle(e).fontFamily")
    assert view.page.evaluate(
        "async () => (await document.fonts.ready, "
        "[...document.fonts].some(f => f.family.includes('Font Awesome') "
        "&& f.status === 'loaded'))")


def test_the_correction_report_is_styled_and_names_sites_offline(reports, serve_folder,
                                                                offline_page, seeded):
    base = serve_folder(reports)
    view = offline_page()
    view.open(base + "correction/latest.html")
    view.screenshot("correction_report")
    view.assert_stayed_local()
    # The page's own stylesheet: table headers shaded, the banner boxed.
    assert view.page.evaluate(
        "() => getComputedStyle(document.querySelector('th')).backgroundColor") \
        == "rgb(242, 244, 247)"
    assert view.page.evaluate(
        "() => getComputedStyle(document.querySelector('.banner')).borderRadius") == "6px"
    # Each site CTIMS knows is headed by its code and its name.
    with psycopg.connect(seeded.dsn("ctims")) as conn:
        names = dict(conn.execute("SELECT btrim(site_code), name FROM ctims.sites"))
    headings = [h.removeprefix("Site ").split(" ", 1)
                for h in view.page.locator("h3").all_inner_texts()]
    known = [(code, rest) for code, rest in headings if code in names]
    assert known
    assert all(rest.startswith(f"{names[code]} — ") for code, rest in known)
    # Its links to the Data Docs lead to pages that load offline too.
    link = view.page.get_by_role("link", name="Data Docs: realtime_rows", exact=True)
    link.click()
    view.page.wait_for_load_state("networkidle")
    assert "/data_docs/validations/realtime_rows/" in view.page.url
    view.assert_stayed_local()
