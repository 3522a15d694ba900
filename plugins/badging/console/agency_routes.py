"""The console's agency pages: Outcomes (page, JSON, CSV), Templates and Access
(docs/outcomes.md). Outcomes are the viewer's sites; Templates and Access the operators'."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from badging.console import access, source
from badging.console import outcomes as console_outcomes
from badging.console.outcome_charts import COLOURS, charts


def _filters(request: Request) -> console_outcomes.Filters:
    try:
        filters = console_outcomes.Filters.from_query(request.query_params)
    except ValueError as error:
        raise HTTPException(422, str(error)) from None
    if filters.site:
        request.state.viewer.require_site(filters.site)
    return filters


def _templates_health(conn: Any) -> dict[str, Any]:
    from badging.outcomes.health import ACTIONS, TemplateProblem, TokenAge

    findings = source.rows(conn, "console/template_findings.sql", {})
    for finding in findings:
        finding["action"] = ACTIONS.get(TemplateProblem(finding["problem"]), "")
    health = source.rows(conn, "console/credly_health.sql", {})
    latest = health[0] if health else None
    token = TokenAge(latest["token_created_on"], latest["token_rotation_days"],
                     datetime.now(UTC).date()) if latest else None
    return {"findings": findings, "credly": latest,
            "token": token.sentence() if token else None,
            "token_days_left": token.days_left if token else None}


def install(app: FastAPI) -> None:
    """Mount the agency pages on the console app."""
    from badging.console.app import MAX_BODY, _jsonable, _links, _page, _read, _viewer

    @app.get("/outcomes", response_class=HTMLResponse)
    def outcomes_page(request: Request) -> Response:
        filters = _filters(request)
        found = _read(console_outcomes.read, filters, _viewer(request).scope())
        return _page(request, "console/outcomes.html.j2", "outcomes", o=found,
                     charts=charts(found), filters=filters, colours=COLOURS,
                     outcomes=console_outcomes.OUTCOMES)

    @app.get("/api/outcomes")
    def outcomes_json(request: Request) -> dict[str, Any]:
        filters = _filters(request)
        return _jsonable(_read(console_outcomes.read, filters,
                               _viewer(request).scope()).to_json())

    @app.get("/outcomes.csv")
    def outcomes_csv(request: Request) -> Response:
        filters = _filters(request)
        viewer = _viewer(request)
        name = console_outcomes.csv_filename(filters)
        # Opened before the response starts, so an unreachable database is still a 503; closed
        # when the body ends, or after the response if the body never started.
        session = _Session()

        def body():
            try:
                yield from console_outcomes.csv_chunks(session.open(), filters, viewer.scope(),
                                                       viewer.operator)
            finally:
                session.close()

        session.open()
        return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
            background=BackgroundTask(session.close))

    @app.get("/templates", response_class=HTMLResponse)
    def templates_page(request: Request) -> Response:
        _viewer(request).require_operator()
        return _page(request, "console/templates.html.j2", "templates",
                     **_read(_templates_health))

    @app.get("/api/templates")
    def templates_json(request: Request) -> dict[str, Any]:
        _viewer(request).require_operator()
        return _jsonable(_read(_templates_health))

    @app.get("/access", response_class=HTMLResponse)
    def access_page(request: Request) -> Response:
        _viewer(request).require_operator()
        return _page(request, "console/access.html.j2", "access", **_read(_access))

    @app.get("/api/access")
    def access_json(request: Request) -> dict[str, Any]:
        _viewer(request).require_operator()
        return _jsonable(_read(_access))

    # A form that changes who sees what: operators only, and only from a page of this server.
    @app.post("/access")
    async def access_change(request: Request) -> Response:
        viewer = _viewer(request)
        viewer.require_operator()
        if not access.same_origin(request.headers, str(request.base_url)):
            raise HTTPException(403, "the form must be sent from the console's own page")
        body = await request.body()
        if len(body) > MAX_BODY:
            raise HTTPException(413, "request body too large")
        form = {k: v[0].strip() for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        username, site = form.get("username", ""), form.get("site_code", "")
        if not access.USERNAME.match(username):
            raise HTTPException(422, "username: letters, digits and . _ @ + - only")
        if site != access.ALL_SITES and not access.SITE_CODE.match(site):
            raise HTTPException(422, "site_code: nine digits, or * for every site")
        change = "console/access_revoke.sql" if form.get("action") == "remove" \
            else "console/access_grant.sql"
        with source.writing() as conn:
            source.execute(conn, change, {"username": username, "site_code": site,
                                          "granted_by": viewer.name})
        return RedirectResponse(f"{_links(request).console}/access", 303)


class _Session:
    """One read-only session a streamed response opens once and closes once."""

    def __init__(self) -> None:
        self._reading: Any = None
        self._conn: Any = None

    def open(self) -> Any:
        if self._conn is None:
            self._reading = source.reading()
            self._conn = self._reading.__enter__()
        return self._conn

    def close(self) -> None:
        if self._reading is not None:
            reading, self._reading = self._reading, None
            reading.__exit__(None, None, None)


def _access(conn: Any) -> dict[str, Any]:
    return {"mappings": source.rows(conn, "console/access_list.sql", {})}
