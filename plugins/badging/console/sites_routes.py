"""The Sites page and each site's page (the address its morning list links to): open items,
what waits per instructor, names beside codes; a site contact sees their own sites only."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from badging.console import act
from badging.console import names as console_names
from badging.console import runs as console_runs
from badging.console.links import Links


def _sites(conn: Any, links: Links, scope: list[str] | None) -> dict[str, Any]:
    """The viewer's sites: open items (runs.sites), what waits (act.by_site), names."""
    listed = {row.site_code: row for row in console_runs.sites(conn, links)
              if scope is None or row.site_code in scope}
    waits = act.by_site(conn, scope)
    for site in waits.keys() - listed.keys():
        listed[site] = console_runs.SiteRow(site or "(no site code)", 0, 0, 0, None, None, None)
    rows = sorted(listed.values(), key=lambda r: (
        -(r.open_items + waits.get(r.site_code, act.SiteWaits()).unaccepted
          + waits.get(r.site_code, act.SiteWaits()).held), r.site_code))
    return {"sites": rows, "waits": waits,
            "names": console_names.read(conn, sites=listed)}


def _site(conn: Any, site_code: str, links: Links) -> dict[str, Any]:
    """One site: its row of the Sites page (None when nothing is open), its open items and
    what waits per instructor."""
    items = console_runs.site_items(conn, site_code, links)
    listed = [row for row in console_runs.sites(conn, links) if row.site_code == site_code]
    instructors = act.for_site(conn, site_code, links, items)
    waits = act.by_site(conn, [site_code]).get(site_code, act.SiteWaits())
    found = console_names.read(conn, sites=[site_code],
                               programs=[i.program_code for i in items],
                               assessments=[i.assessment_code for i in items])
    return {"site": listed[0] if listed else None, "items": items,
            "instructors": instructors, "waits": waits, "names": found}


def install(app: FastAPI) -> None:
    """GET /sites, /api/sites, /sites/{code}, /api/sites/{code}."""
    from badging.console.app import _jsonable, _links, _page, _read, _viewer

    @app.get("/sites", response_class=HTMLResponse)
    def sites_page(request: Request) -> Response:
        shown = _read(_sites, _links(request), _viewer(request).scope())
        return _page(request, "console/sites.html.j2", "sites", **shown)

    @app.get("/api/sites")
    def sites_json(request: Request) -> dict[str, Any]:
        shown = _read(_sites, _links(request), _viewer(request).scope())
        return _jsonable({"sites": [
            {**row.to_json(), "name": shown["names"].sites.get(row.site_code),
             **vars(shown["waits"].get(row.site_code, act.SiteWaits()))}
            for row in shown["sites"]]})

    # The address each technology center's morning list links to (notify.console_url).
    @app.get("/sites/{site_code}", response_class=HTMLResponse)
    def site_page(request: Request, site_code: str) -> Response:
        _viewer(request).require_site(site_code)
        shown = _read(_site, site_code, _links(request))
        return _page(request, "console/site.html.j2", f"site {site_code}",
                     site_code=site_code, kinds=act.KINDS, **shown)

    @app.get("/api/sites/{site_code}")
    def site_json(request: Request, site_code: str) -> dict[str, Any]:
        _viewer(request).require_site(site_code)
        shown = _read(_site, site_code, _links(request))
        listed = shown["site"]
        return _jsonable({
            "site": listed.to_json() if listed else {"site_code": site_code},
            "name": shown["names"].sites.get(site_code),
            "items": [item.to_json() for item in shown["items"]],
            "waits": vars(shown["waits"]),
            "instructors": [person.to_json() for person in shown["instructors"]]})
