"""The console's FastAPI app, mounted by the plugin at /badging (docs/console.md).

Every route needs an Airflow user who may read the DAG: Airflow's own dependency
(`requires_access_dag`, the auth manager's decision) guards the whole app, because Airflow
does not protect an app a plugin mounts. A Bearer token or the UI's session cookie both work.
Operators (who may edit the DAG) see everything; a technology center's contact sees the sites
an operator mapped to them (access.py, docs/outcomes.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from badging.console import access, agency_routes, sites_routes, source, trail
from badging.console import names as console_names
from badging.console import runs as console_runs
from badging.console.links import Links
from badging.core.constants import DAG_ID
from badging.reports.data_docs import SITE_FOLDER as DATA_DOCS

MOUNT = "/badging"
# Form and JSON bodies of the student lookup are a few bytes; refuse anything larger.
MAX_BODY = 4096
# Ids are Postgres bigints: a larger number is refused before it reaches a query.
MAX_ID = 2**63 - 1


def create_app() -> FastAPI:
    """The console app: HTML pages and the same data as JSON, all behind Airflow's auth."""
    # An internal module of Airflow (pinned 3.3.2; tests/e2e/test_console.py holds it to
    # 401 without a user, 403 without the right, 200 with it).
    from airflow.api_fastapi.core_api.security import requires_access_dag

    app = FastAPI(title="Badging console", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(requires_access_dag("GET", param_dag_id=DAG_ID)),
                                Depends(access.viewer_dependency())])

    @app.exception_handler(source.ConsoleUnavailable)
    def unavailable(request: Request, exc: source.ConsoleUnavailable) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=503)
        return _page(request, "console/unavailable.html.j2", "unavailable", status_code=503,
                     problem=str(exc))

    @app.exception_handler(access.Forbidden)
    async def forbidden(request: Request, exc: access.Forbidden) -> Response:
        return await refused(request, StarletteHTTPException(403, str(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def refused(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 403 and not _wants_json(request):
            return _page(request, "console/forbidden.html.j2", "not yours", status_code=403,
                         problem=exc.detail)
        # A page opened without an Airflow session (e.g. from a site's morning list): still
        # 401, with the way to Airflow's login and back.
        if exc.status_code != 401 or _wants_json(request):
            return await http_exception_handler(request, exc)
        from airflow.api_fastapi.app import get_auth_manager

        login = get_auth_manager().get_url_login(next_url=str(request.url))
        return _page(request, "console/login.html.j2", "log in", status_code=401,
                     login=login)

    @app.exception_handler(console_runs.ReportNotFound)
    def not_found(request: Request, exc: console_runs.ReportNotFound) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.get("/", response_class=HTMLResponse)
    def lookup_page(request: Request, certification_id: Annotated[
            int | None, Query(ge=0, le=MAX_ID)] = None) -> Response:
        trails = [] if certification_id is None else [
            _shown(request, _read(trail.certification_trail, certification_id,
                                  _links(request)))]
        return _page(request, "console/lookup.html.j2", "lookup", trails=trails,
                     typed=certification_id, kind="certification", names=_trail_names(trails))

    # By POST: a student id in a URL would land in the API server's access log.
    @app.post("/", response_class=HTMLResponse)
    async def student_page(request: Request) -> Response:
        # Students are the operators' (docs/outcomes.md, "Who sees what").
        _viewer(request).require_operator()
        form = parse_qs((await _body(request)).decode("utf-8", "replace"))
        typed = (form.get("student_id") or [""])[0].strip()
        trails = await _student_trails(request, _as_id(typed))
        return _page(request, "console/lookup.html.j2", "lookup", trails=trails, typed=typed,
                     kind="student", names=_trail_names(trails))

    @app.get("/api/certifications/{certification_id}")
    def certification_json(request: Request, certification_id: Annotated[
            int, Path(ge=0, le=MAX_ID)]) -> dict[str, Any]:
        found = _shown(request, _read(trail.certification_trail, certification_id,
                                      _links(request)))
        return _jsonable(found.to_json())

    @app.post("/api/students")
    async def student_json(request: Request) -> dict[str, Any]:
        import json

        _viewer(request).require_operator()
        try:
            typed = json.loads(await _body(request)).get("student_id")
        except (ValueError, AttributeError):
            raise HTTPException(422, 'send {"student_id": <number>}') from None
        trails = await _student_trails(request, _as_id(str(typed)))
        return _jsonable({"certifications": [t.to_json() for t in trails]})

    # /runs (operators) and /sites (the viewer's), each a page and the same rows as JSON.
    _listing(app, "runs", console_runs.runs)
    sites_routes.install(app)

    @app.get("/runs/{run_id}/correction-report", response_class=HTMLResponse)
    def correction_report(request: Request, run_id: str) -> Response:
        # The report covers every site: the operators'.
        _viewer(request).require_operator()
        body = _read(console_runs.correction_report, run_id)
        return HTMLResponse(body, headers=_REPORT_HEADERS)

    @app.get("/runs/{run_id}/data-docs")
    def data_docs(request: Request, run_id: str) -> Response:
        _viewer(request).require_operator()
        index = _read(console_runs.data_docs_index, run_id)
        return RedirectResponse(f"{_links(request).console}/{DATA_DOCS}/{index}", 303)

    # The site's own folder name, so the correction report's relative links to the run's
    # Data Docs pages (../../data_docs/…) land here when the console serves the report.
    @app.get(f"/{DATA_DOCS}/{{name:path}}")
    def data_docs_file(request: Request, name: str) -> Response:
        from fastapi.responses import FileResponse

        _viewer(request).require_operator()
        path = console_runs.data_docs_files().get(name)
        if path is None:
            raise HTTPException(404, "no such Data Docs file")
        return FileResponse(path, headers={"X-Content-Type-Options": "nosniff"})

    agency_routes.install(app)
    return app


# The correction report is one page with inline CSS and SVG and no scripts (docs/
# offline-reports.md): it may load nothing, from anywhere.
_REPORT_HEADERS = {"X-Content-Type-Options": "nosniff",
                   "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                              "img-src data:"}


def _listing(app: FastAPI, name: str, reader: Callable[..., list[Any]]) -> None:
    """GET /<name> (the page console/<name>.html.j2) and GET /api/<name> (JSON)."""

    @app.get(f"/{name}", response_class=HTMLResponse, name=f"{name}_page")
    def page(request: Request) -> Response:
        _viewer(request).require_operator()
        rows = _read(reader, _links(request))
        return _page(request, f"console/{name}.html.j2", name, **{name: rows})

    @app.get(f"/api/{name}", name=f"{name}_json")
    def as_json(request: Request) -> dict[str, Any]:
        _viewer(request).require_operator()
        return _jsonable({name: [row.to_json() for row in _read(reader, _links(request))]})


def _viewer(request: Request) -> access.Viewer:
    """The request's viewer (found by the app's dependency, access.viewer_dependency)."""
    return request.state.viewer


def _shown(request: Request, found: trail.Trail) -> trail.Trail:
    """A certification's trail as the viewer may see it: a site contact only their sites'
    (403 otherwise, whether or not it exists), and no Credly badge id but to operators."""
    viewer = _viewer(request)
    if viewer.operator:
        return found
    if not viewer.may_see(access.site_of(found)):
        raise access.Forbidden("this certification is not one of your sites' (or no run has "
                               "seen it)")
    return access.redact_badge_ids(found)


def _trail_names(trails: list[trail.Trail]) -> Any:
    """CTIMS's names of the codes the trails show."""
    staged = [s for t in trails for s in t.staged]
    badges = [b.fields for t in trails for b in t.badges]
    if not staged and not badges:
        return console_names.Names()
    return _read(lambda conn: console_names.read(
        conn, sites=[s.site_code for s in staged] + [b.get("site_code") for b in badges],
        programs=[s.program_code for s in staged] + [b.get("program_code") for b in badges],
        assessments=[s.assessment_code for s in staged]
        + [b.get("assessment_code") for b in badges]))


def _read(reader: Callable[..., Any], *args: Any) -> Any:
    """reader(conn, *args) in a read-only session of its own."""
    with source.reading() as conn:
        return reader(conn, *args)


def _links(request: Request) -> Links:
    return Links.from_root_path(request.scope.get("root_path", ""), MOUNT)


def _wants_json(request: Request) -> bool:
    return "/api/" in request.url.path


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, "request body too large")
    return body


def _as_id(typed: str) -> int:
    if not typed.isdigit() or int(typed) > MAX_ID:
        # Never echo the value: it may be a student id.
        raise HTTPException(422, "an id is digits only")
    return int(typed)


async def _student_trails(request: Request, student_id: int) -> list[trail.Trail]:
    from starlette.concurrency import run_in_threadpool

    def read() -> list[trail.Trail]:
        with source.reading() as conn:
            return [trail.certification_trail(conn, cid, _links(request))
                    for cid in trail.student_certifications(conn, student_id)]

    return await run_in_threadpool(read)


def _page(request: Request, template: str, title: str, *, status_code: int = 200,
          **values: Any) -> HTMLResponse:
    from badging.pipeline.report import STAGING_RETENTION_DAYS
    from badging.reports.templates import templates

    values.setdefault("names", console_names.Names())
    html = templates().get_template(template).render(
        links=_links(request), path=request.url.path, title=f"Badging: {title}",
        retention_days=STAGING_RETENTION_DAYS,
        viewer=getattr(request.state, "viewer", None), **values)
    return HTMLResponse(html, status_code=status_code)


def _jsonable(value: Any) -> Any:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value)
