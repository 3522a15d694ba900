"""Data Docs on real Postgres: the site rebuilt from stored, scrubbed results of recent runs."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import psycopg

from badging import data_docs, validate
from badging.report_location import ReportLocation
from tests.integration.badging.conftest import run_info, stage


def test_the_site_has_a_page_per_suite_and_no_student_data(seeded, validated, tmp_path):
    location = ReportLocation(str(tmp_path))
    with psycopg.connect(seeded.dsn("badging")) as conn:
        site = data_docs.build(conn, location, validated.run_id)
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
        assert data_docs.build(conn, location, validated.run_id, keep_runs=2).run_pages
        assert f"__{validated.run_id}" in index.read_text(encoding="utf-8")
        assert data_docs.build(conn, location, validated.run_id, keep_runs=1).run_pages == {}
        assert set(data_docs.build(conn, location, later.run_id, keep_runs=1).run_pages) \
            == set(validate.SUITES)
    text = index.read_text(encoding="utf-8")
    assert f"__{later.run_id}" in text
    assert f"__{validated.run_id}" not in text


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
        site = data_docs.build(conn, ReportLocation(str(tmp_path)), validated.run_id)
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
