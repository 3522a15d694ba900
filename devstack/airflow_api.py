"""A small client of a local Airflow's public REST API (/api/v2), logged in as the local admin
(devstack.airflow_services starts the Airflow it talks to)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

if TYPE_CHECKING:
    from devstack.airflow_services import AirflowSite


def loopback_session() -> requests.Session:
    session = requests.Session()
    # Loopback only: a proxy from the environment must never see these calls or the token.
    session.trust_env = False
    return session


class AirflowApi:
    """A small client for the public REST API (/api/v2), logged in as the local admin."""

    def __init__(self, site: AirflowSite) -> None:
        self.base = f"{site.url}/api/v2"
        self.ui_base = f"{site.url}/ui"
        self._http = loopback_session()
        username, password = site.login
        response = self._http.post(f"{site.url}/auth/token", timeout=30,
                                    json={"username": username, "password": password})
        response.raise_for_status()
        self._http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"{self.base}{path}", timeout=60, **kwargs)
        if not response.ok:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def get_ui(self, path: str) -> Any:
        """GET from the API the UI itself uses (/ui), e.g. /connections/hook_meta."""
        response = self._http.get(f"{self.ui_base}{path}", timeout=60)
        if not response.ok:
            raise RuntimeError(f"GET /ui{path}: {response.status_code} {response.text[:500]}")
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("POST", path, json=body)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("PATCH", path, json=body)

    def get_all(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paged collection (the API caps a page at 100)."""
        items: list[dict[str, Any]] = []
        while True:
            page = self.get(path, limit=100, offset=len(items), **params)
            items += page[key]
            if not page[key] or len(items) >= page["total_entries"]:
                return items

    def wait_for_dag(self, dag_id: str, timeout: float = 180.0) -> dict[str, Any]:
        """The DAG once the DAG processor has parsed and serialized it."""
        deadline = time.monotonic() + timeout
        while True:
            response = self._http.get(f"{self.base}/dags/{dag_id}", timeout=30)
            if response.ok:
                return response.json()
            if time.monotonic() > deadline:
                raise TimeoutError(f"DAG {dag_id} not parsed after {timeout:.0f}s")
            time.sleep(2)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> dict[str, Any]:
        """The DAG run once it has finished (success or failed)."""
        path = f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}"
        deadline = time.monotonic() + timeout
        while (run := self.get(path))["state"] not in ("success", "failed"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {run['state']} after {timeout:.0f}s")
            time.sleep(3)
        return run

    def wait_for_backfill(self, backfill_id: int, timeout: float) -> dict[str, Any]:
        """The backfill once the scheduler has marked it completed (all its runs finished)."""
        deadline = time.monotonic() + timeout
        while not (backfill := self.get(f"/backfills/{backfill_id}"))["completed_at"]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"backfill {backfill_id} not complete after {timeout:.0f}s")
            time.sleep(5)
        return backfill
