"""The offline Data Docs configuration: page depths, and vendored assets that are all there."""

from __future__ import annotations

import json
import re
from pathlib import Path

from badging.reports.data_docs_site import site_config, static_root

INCLUDE = Path(__file__).resolve().parents[4] / "include"
VENDOR = INCLUDE / "static" / "vendor"


def test_each_page_kind_finds_the_site_root():
    validation = {"renderer_type": "ValidationResultsPageRenderer",
                  "expectation_suite_name": "realtime_rows"}
    assert static_root(validation) == "../../../../"
    # GX makes a folder of each dot in a suite name.
    assert static_root({**validation, "expectation_suite_name": "a.b"}) == "../../../../../"
    assert static_root({"renderer_type": "ExpectationSuitePageRenderer",
                        "expectation_suite_name": "realtime_rows"}) == "../"
    assert static_root({"renderer_type": "SiteIndexPageRenderer"}) == ""


def test_every_vendored_library_is_pinned_complete_and_licensed():
    manifest = json.loads((VENDOR / "manifest.json").read_text())
    libraries = {name: lib for name, lib in manifest.items() if not name.startswith("_")}
    assert {p.name for p in VENDOR.iterdir() if p.is_dir()} == set(libraries)
    for name, lib in libraries.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", lib["version"]), name
        assert lib["license"], name
        assert (VENDOR / name / "LICENSE.txt").stat().st_size > 500, name
        for dest in lib["files"].values():
            assert (VENDOR / name / dest).is_file(), f"{name}: {dest}"


def test_the_templates_load_only_vendored_files():
    listed = {f"static/vendor/{name}/{dest}"
              for name, lib in json.loads((VENDOR / "manifest.json").read_text()).items()
              if not name.startswith("_") for dest in lib["files"].values()}
    folder = INCLUDE / "templates" / "reports" / "data_docs"
    templates = "".join(p.read_text() for p in folder.iterdir())
    assert "//" not in re.sub(r"\{#.*?#\}", "", templates, flags=re.S)
    used = set(re.findall(r'\{\{ vendor \}\}([^"]+)"', templates))
    assert len(used) == 15  # every CDN address in GX 1.24's page.j2 and js_script_imports.j2
    assert {f"static/vendor/{path}" for path in used} <= listed


def test_the_site_is_built_by_our_builder_and_views(tmp_path):
    config = site_config(tmp_path)
    assert config["class_name"] == "OfflineSiteBuilder"
    assert config["site_index_builder"]["view"]["class_name"] == "OfflineIndexPageView"
    assert {section["view"]["class_name"] for section in
            config["site_section_builders"].values()} == {"OfflinePageView"}
