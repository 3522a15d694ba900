"""The Badging page in the Airflow UI: the operator console (docs/console.md).

Cheap to import on purpose: Airflow loads plugins in every component. The console's app is
built on its first request, so neither the scheduler nor DAG parsing imports FastAPI routes,
psycopg or Jinja for it, and an unreachable badging database only shows on the page.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

MOUNT = "/badging"


class LazyConsole:
    """An ASGI app that builds the console's FastAPI app when the first request comes."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            from badging.console.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class BadgingConsolePlugin(AirflowPlugin):
    """Badging in the UI's navigation; /badging and /badging/api/… on the API server."""

    name = "badging_console"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": LazyConsole(), "url_prefix": MOUNT, "name": "Badging console"}]
    external_views: ClassVar[list[dict[str, Any]]] = [{
        "name": "Badging",
        "href": f"{MOUNT}/",
        "destination": "nav",
        "url_route": "badging",
    }]
