"""Where the reports go: a local folder, or any fsspec URL (s3://, gs://, abfs://, file://)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# The environment variable naming the report location; devstack sets it in its env file.
REPORT_DIR_ENV = "BADGING_REPORT_DIR"


@dataclass(frozen=True)
class ReportLocation:
    """The root every report is written under.

    A plain path is written in place. A URL with a scheme is written through fsspec: the
    report is built in a local temporary folder, then uploaded (the same protocols as
    Airflow's ObjectStoragePath; install the matching fsspec backend, e.g. s3fs, and give
    it credentials the usual way for that backend).
    """

    root: str

    @classmethod
    def configured(cls) -> ReportLocation:
        """From BADGING_REPORT_DIR; else `$AIRFLOW_HOME/badging_reports` (~/airflow by default)."""
        root = os.environ.get(REPORT_DIR_ENV)
        if not root:
            home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
            root = os.path.join(home, "badging_reports")
        return cls(root)

    @property
    def remote(self) -> bool:
        return "://" in self.root

    def url(self, relative: str) -> str:
        """The address of `relative` under the root: a URL when remote, else an absolute path."""
        if self.remote:
            return f"{self.root.rstrip('/')}/{relative}"
        return str(Path(self.root).resolve() / relative)

    def exists(self, relative: str) -> bool:
        """Whether `relative` is there under the root already."""
        if not self.remote:
            return (Path(self.root) / relative).exists()
        import fsspec

        fs, path = fsspec.core.url_to_fs(self.url(relative))
        return fs.exists(path)

    @contextmanager
    def writing(self, folder: str) -> Iterator[Path]:
        """A local folder to write `folder` (relative to the root) into; published on exit.

        Local roots are written in place. Remote roots get a temporary folder whose files
        are uploaded, over what is there, when the block ends without an error.
        """
        if not self.remote:
            target = Path(self.root) / folder
            target.mkdir(parents=True, exist_ok=True)
            yield target
            return
        staging = Path(tempfile.mkdtemp(prefix="badging-report-"))
        try:
            yield staging
            self._upload(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _upload(self, local: Path, folder: str) -> None:
        import fsspec

        fs, base = fsspec.core.url_to_fs(self.url(folder))
        for path in sorted(p for p in local.rglob("*") if p.is_file()):
            remote = f"{base.rstrip('/')}/{path.relative_to(local).as_posix()}"
            fs.makedirs(remote.rsplit("/", 1)[0], exist_ok=True)
            fs.put_file(str(path), remote)
