"""The Data Docs site's GX configuration: pages that load nothing from another host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from great_expectations.render.renderer.site_builder import SiteBuilder
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemLoader

from badging.core import sql

# GX's page templates load scripts, styles and a logo from CDNs. This site's pages use our own
# include/templates/reports/data_docs/page.j2 (GX's content inside, every asset from the site)
# and the site copies include/static (pinned assets with their licences) into its static/ folder; GX
# imports the classes below by name from site_config (docs/offline-reports.md).


def static_root(document: dict[str, Any]) -> str:
    """The way up from a GX page to its site's root (where index.html and static/ are).

    GX stores a validation result at validations/<suite, one folder per dot>/<run name>/
    <run time>/<batch>.html and a suite at expectations/<suite, per dot>.html; the index is
    at the root (GX's own top_navbar.j2 counts the same way).
    """
    kind = document.get("renderer_type") or ""
    dots = (document.get("expectation_suite_name") or "").count(".")
    if "ValidationResults" in kind or "ProfilingResults" in kind:
        return "../" * (dots + 4)
    if "ExpectationSuite" in kind:
        return "../" * (dots + 1)
    return ""


class _OfflineTemplates:
    """A GX page view whose templates come from include/templates/reports/data_docs first.

    GX appends custom_views_directory after its own templates, so a custom view can add
    templates but not replace page.j2; a view class named in the site's configuration can.
    """

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        # GX renders with its own environment: ours comes first in its loader.
        ours = FileSystemLoader(sql.include_dir() / "templates" / "reports" / "data_docs")
        self.env.loader = ChoiceLoader([ours, self.env.loader])

    def render(self, document, template=None, **kwargs):
        content = document.to_json_dict() if hasattr(document, "to_json_dict") else document
        return super().render(document, template, static_root=static_root(content), **kwargs)


class OfflinePageView(_OfflineTemplates, DefaultJinjaPageView):
    """Validation result and suite pages with local assets."""


class OfflineIndexPageView(_OfflineTemplates, DefaultJinjaIndexPageView):
    """The index page with local assets: our page.j2 serves it too."""

    _template = "page.j2"


class OfflineSiteBuilder(SiteBuilder):
    """GX's site builder that also copies include/static (the vendored assets) into static/."""

    def build(self, resource_identifiers=None, build_index: bool = True):
        built = super().build(resource_identifiers, build_index)
        static = sql.include_dir() / "static"
        # GX keys each file by its path from the first folder named "static" in it.
        if static.parts.index("static") != len(static.parts) - 1:
            raise ValueError(f"include/ must not lie under a folder named static: {static}")
        self.target_store.copy_static_assets(str(static))
        return built


def site_config(folder: Path) -> dict[str, Any]:
    """The GX site configuration: our builder and views, pages only for validation results."""
    view = {"module_name": __name__, "class_name": OfflinePageView.__name__}
    return {
        "module_name": __name__,
        "class_name": OfflineSiteBuilder.__name__,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                          "base_directory": str(folder)},
        # GX's how-to buttons and walkthrough pop-up are for GX users, not for the sites.
        "show_how_to_buttons": False,
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "view": {"module_name": __name__, "class_name": OfflineIndexPageView.__name__}},
        "site_section_builders": {
            "expectations": {"view": view},
            "validations": {"view": view},
            "profiling": {"view": view},
        },
    }
