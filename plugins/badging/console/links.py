"""Addresses of the Airflow UI's pages and of the console's own, from the console's mount."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from badging.core.constants import DAG_ID


@dataclass(frozen=True)
class Links:
    """Root-relative links; `airflow` is the API server's root path ("" or a sub-path such as
    "/airflow" behind a proxy), `console` where the console is mounted (…/badging)."""

    airflow: str
    console: str

    @classmethod
    def from_root_path(cls, root_path: str, mount: str) -> Links:
        """From the request's ASGI root_path, which ends with the mount prefix."""
        console = root_path.rstrip("/")
        return cls(airflow=console.removesuffix(mount), console=console)

    def run(self, run_id: str) -> str:
        return f"{self.airflow}/dags/{DAG_ID}/runs/{quote(run_id, safe='')}"

    def task(self, run_id: str, task_id: str, map_index: int = -1) -> str:
        link = f"{self.run(run_id)}/tasks/{quote(task_id, safe='')}"
        return link if map_index < 0 else f"{link}/mapped/{map_index}"

    def correction_report(self, run_id: str) -> str:
        return f"{self.console}/runs/{quote(run_id, safe='')}/correction-report"

    def data_docs(self, run_id: str) -> str:
        return f"{self.console}/runs/{quote(run_id, safe='')}/data-docs"

    def certification(self, certification_id: int) -> str:
        return f"{self.console}/?certification_id={certification_id}"
