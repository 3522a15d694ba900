"""Report locations: a local folder is written in place; a URL is built locally, then uploaded."""

from __future__ import annotations

from pathlib import Path

from badging.reports.location import REPORT_DIR_ENV, ReportLocation


def test_a_local_folder_is_written_in_place(tmp_path):
    location = ReportLocation(str(tmp_path / "reports"))
    with location.writing("correction") as folder:
        (folder / "a.html").write_text("x")
    assert location.url("correction/a.html") == str(tmp_path / "reports/correction/a.html")
    assert Path(location.url("correction/a.html")).read_text() == "x"


def test_a_url_is_uploaded_through_fsspec(tmp_path):
    # file:// goes through the same fsspec upload as s3:// or gs:// would.
    location = ReportLocation(f"file://{tmp_path}/shared")
    assert location.remote
    with location.writing("data_docs") as folder:
        assert not folder.is_relative_to(tmp_path)
        (folder / "static").mkdir()
        (folder / "index.html").write_text("index")
        (folder / "static" / "style.css").write_text("css")
    assert location.url("data_docs/index.html") == f"file://{tmp_path}/shared/data_docs/index.html"
    assert (tmp_path / "shared/data_docs/index.html").read_text() == "index"
    assert (tmp_path / "shared/data_docs/static/style.css").read_text() == "css"
    assert not folder.exists()


def test_the_default_is_under_airflow_home(monkeypatch, tmp_path):
    monkeypatch.delenv(REPORT_DIR_ENV, raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    assert ReportLocation.configured().root == str(tmp_path / "badging_reports")
    monkeypatch.setenv(REPORT_DIR_ENV, "s3://bucket/badging")
    assert ReportLocation.configured().url("x/index.html") == "s3://bucket/badging/x/index.html"
