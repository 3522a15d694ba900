"""Data Docs on real Postgres: the site written from stored, scrubbed results of recent runs."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import psycopg

from badging.pipeline import validate
from badging.reports import data_docs
from badging.reports.location import ReportLocation
from tests.integration.badging.conftest import run_info, stage


def test_the_site_has_a_page_per_suite_and_no_student_data(seeded, validated, tmp_path):
    location = ReportLocation(str(tmp_path))
    with psycopg.connect(seeded.dsn("badging")) as conn:
        site = data_docs.publish(conn, location, validated.run_id)
        emails = {e for (e,) in conn.execute(
            "SELECT email FROM badging.staged_certification WHERE email LIKE '%%@%%'")}
    assert site.index == str(tmp_path / "data_docs" / "index.html")
    assert set(site.run_pages) == set(validate.SUITES)
    assert emails
    for page in site.run_pages.values():
        assert page.startswith("data_docs/")
        text = (tmp_path / page).read_text(encoding="utf-8")
        assert validated.run_id in text
        assert not [email for email in emails if email in text]


def test_the_index_keeps_the_latest_runs_only(seeded, validated, tmp_path):
    later = run_info("second-run")
    stage(seeded, later)
    validate.validate(later, max_failed_share=1.0, validation_prefix="test",
                      badging=seeded.dsn("badging"))
    location = ReportLocation(str(tmp_path))
    index = tmp_path / "data_docs" / "index.html"
    with psycopg.connect(seeded.dsn("badging")) as conn:
        assert data_docs.publish(conn, location, validated.run_id, keep_runs=2).run_pages
        assert f"__{validated.run_id}" in index.read_text(encoding="utf-8")
        assert data_docs.publish(conn, location, validated.run_id, keep_runs=1).run_pages == {}
        assert set(data_docs.publish(conn, location, later.run_id, keep_runs=1).run_pages) \
            == set(validate.SUITES)
    text = index.read_text(encoding="utf-8")
    assert f"__{later.run_id}" in text
    assert f"__{validated.run_id}" not in text


def _pages(seeded, run_id: str) -> dict[str, str | None]:
    with psycopg.connect(seeded.dsn("badging")) as conn:
        return dict(conn.execute("SELECT suite, docs_page FROM badging.dq_result "
                                 "WHERE run_id = %s", (run_id,)).fetchall())


def test_validate_writes_its_run_pages_and_a_later_run_adds_only_its_own(
        seeded, validated, report_dir):
    first = _pages(seeded, validated.run_id)
    assert set(first) == set(validate.SUITES)
    for page in first.values():
        assert (report_dir / page).is_file()
    untouched = {page: (report_dir / page).stat().st_mtime_ns for page in first.values()}
    later = run_info("second-run")
    stage(seeded, later)
    validate.validate(later, max_failed_share=1.0, validation_prefix="test",
                      badging=seeded.dsn("badging"))
    second = _pages(seeded, later.run_id)
    assert set(second) == set(validate.SUITES)
    assert not set(second.values()) & set(first.values())
    # The earlier run's pages were not rendered again; the index lists both runs.
    assert {page: (report_dir / page).stat().st_mtime_ns for page in first.values()} \
        == untouched
    index = (report_dir / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert f"__{validated.run_id}" in index
    assert f"__{later.run_id}" in index


def test_a_folder_validate_cannot_write_leaves_the_pages_to_the_report_task(
        seeded, tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the report folder should be")
    monkeypatch.setenv("BADGING_REPORT_DIR", str(blocked))
    run = run_info("blocked-docs")
    stage(seeded, run)
    outcome = validate.validate(run, max_failed_share=1.0, validation_prefix="test",
                                badging=seeded.dsn("badging"))
    assert outcome.checked > 0
    assert set(_pages(seeded, run.run_id).values()) == {None}
    location = ReportLocation(str(tmp_path / "reports-fixed"))
    with psycopg.connect(seeded.dsn("badging")) as conn:
        site = data_docs.run_pages(conn, location, run.run_id)
    assert set(site.run_pages) == set(validate.SUITES)
    assert _pages(seeded, run.run_id) == site.run_pages
    for page in site.run_pages.values():
        assert (tmp_path / "reports-fixed" / page).is_file()


class _Assets(HTMLParser):
    """Every address a page loads by itself (scripts, styles, images, icons), not its links."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag in ("script", "img") and found.get("src"):
            self.loads.append(found["src"])
        if tag == "link" and found.get("href"):
            self.loads.append(found["href"])


def _loads(page: Path) -> list[str]:
    parser = _Assets()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.loads


def test_every_asset_a_page_loads_is_a_file_of_the_site(seeded, validated, tmp_path):
    with psycopg.connect(seeded.dsn("badging")) as conn:
        site = data_docs.publish(conn, ReportLocation(str(tmp_path)), validated.run_id)
    pages = [tmp_path / "data_docs" / "index.html"] + [tmp_path / p for p in
                                                        site.run_pages.values()]
    for page in pages:
        loads = _loads(page)
        # The 15 scripts and stylesheets GX 1.24's templates load from CDNs, and a favicon:
        # all of them from the site.
        assert len(loads) == 16, page
        for address in loads:
            assert not re.match(r"^([a-z]+:)?//", address), f"{page} loads {address}"
            assert (page.parent / address).resolve().is_file(), f"{page}: {address} missing"
        assert "jquery.min.js" in " ".join(loads)
    # Font Awesome's stylesheet finds its fonts beside it.
    css = tmp_path / "data_docs" / "static" / "vendor" / "fontawesome" / "css" / "all.min.css"
    fonts = re.findall(r"url\(([^)]+)\)", css.read_text(encoding="utf-8"))
    assert fonts
    assert all((css.parent / font).resolve().is_file() for font in fonts)
