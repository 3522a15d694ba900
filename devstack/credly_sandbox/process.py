"""Run the sandbox as a child process: start it, wait until it answers, stop, kill or restart it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devstack.credly_sandbox.behavior import SWITCHES
from devstack.credly_sandbox.faults import KNOBS

# The directory that holds the `devstack` package, so `python -m devstack.credly_sandbox` imports.
REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 20.0
# Bypass any HTTP proxy from the environment: the sandbox is always on loopback.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SandboxStartError(RuntimeError):
    """The sandbox exited or never became healthy; the message carries its log tail."""


def _fault_flags(faults: dict[str, Any] | None) -> list[str]:
    flags: list[str] = []
    for name, value in (faults or {}).items():
        if name not in KNOBS:
            raise ValueError(f"unknown fault knob {name!r}")
        if value is not None:
            flags += ["--" + name.replace("_", "-"), str(value)]
    return flags


def _behavior_flags(behavior: dict[str, bool] | None) -> list[str]:
    flags: list[str] = []
    for name, value in (behavior or {}).items():
        if name not in SWITCHES:
            raise ValueError(f"unknown behavior switch {name!r}")
        flag = name.replace("_", "-")
        flags.append(f"--{flag}" if value else f"--no-{flag}")
    return flags


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class SandboxProcess:
    """A running sandbox child process and the facts needed to talk to it."""

    def __init__(
        self,
        *,
        argv: list[str],
        env: dict[str, str],
        host: str,
        port: int,
        state_path: Path,
        org_id: str,
        token: str,
        read_only_token: str | None,
        log_path: Path,
    ) -> None:
        self._argv = argv
        self._env = env
        self.host = host
        self.port = port
        self.state_path = state_path
        self.org_id = org_id
        self.token = token
        self.read_only_token = read_only_token
        self.log_path = log_path
        self._popen: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        # Never print the tokens.
        return f"SandboxProcess(pid={self.pid}, root_url={self.root_url!r})"

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What the `credly_api` connection's host holds: the API root including /v1."""
        return f"{self.root_url}/v1"

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    @property
    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def launch(self, ready_timeout: float = READY_TIMEOUT_S) -> SandboxProcess:
        """Start the child and block until /_sandbox/health answers."""
        if self.running:
            raise RuntimeError("sandbox is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self._popen = subprocess.Popen(
                self._argv,
                cwd=REPO_ROOT,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session, so a Ctrl-C aimed at the parent does not reach it first.
                start_new_session=True,
            )
        self._wait_ready(ready_timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.root_url}/_sandbox/health"
        while time.monotonic() < deadline:
            if self._popen is None or self._popen.poll() is not None:
                code = self._popen.returncode if self._popen else None
                raise SandboxStartError(
                    f"credly sandbox exited with {code} before it was ready; log tail:\n"
                    + _log_tail(self.log_path)
                )
            try:
                with _OPENER.open(url, timeout=1) as response:
                    if json.load(response).get("pid") == self._popen.pid:
                        return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.05)
        self.kill()
        raise SandboxStartError(
            f"credly sandbox not ready after {timeout:.0f}s on port {self.port}; log tail:\n"
            + _log_tail(self.log_path)
        )

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
        if not self.running:
            return
        assert self._popen is not None
        self._popen.send_signal(signal.SIGTERM)
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL at once: what a crash looks like, for restart tests."""
        if not self.running:
            return
        assert self._popen is not None
        self._popen.kill()
        self._popen.wait()

    def restart(self, *, hard: bool = False, ready_timeout: float = READY_TIMEOUT_S) -> None:
        """Stop (or kill, when `hard`) and start again on the same port and state file."""
        if hard:
            self.kill()
        else:
            self.stop()
        self.launch(ready_timeout)

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_sandbox(
    *,
    port: int,
    state_path: Path,
    org_id: str,
    token: str,
    read_only_token: str | None = None,
    log_path: Path | None = None,
    faults: dict[str, Any] | None = None,
    behavior: dict[str, bool] | None = None,
    templates: Sequence[dict[str, Any]] | None = None,
    host: str = "127.0.0.1",
    ready_timeout: float = READY_TIMEOUT_S,
) -> SandboxProcess:
    """Launch `python -m devstack.credly_sandbox` and return it once healthy.

    The log defaults to the state file with a .log suffix. `templates` are written beside the
    state file and upserted at start; `faults` are the same knobs as POST /_sandbox/faults and
    `behavior` the same switches as POST /_sandbox/behavior.
    """
    state_path = Path(state_path)
    log_path = Path(log_path) if log_path else state_path.with_suffix(".log")
    argv = [
        sys.executable,
        "-m",
        "devstack.credly_sandbox",
        "--host", host,
        "--port", str(port),
        "--state", str(state_path),
        "--org-id", org_id,
        *_fault_flags(faults),
        *_behavior_flags(behavior),
    ]  # fmt: skip
    if templates is not None:
        templates_path = state_path.with_name(state_path.stem + ".templates.json")
        templates_path.parent.mkdir(parents=True, exist_ok=True)
        templates_path.write_text(json.dumps(list(templates)))
        argv += ["--templates", str(templates_path)]
    # Tokens go through the environment so they never appear in a process listing.
    env = {**os.environ, "CREDLY_SANDBOX_TOKEN": token}
    env.pop("CREDLY_SANDBOX_READ_ONLY_TOKEN", None)
    if read_only_token:
        env["CREDLY_SANDBOX_READ_ONLY_TOKEN"] = read_only_token
    process = SandboxProcess(
        argv=argv,
        env=env,
        host=host,
        port=port,
        state_path=state_path,
        org_id=org_id,
        token=token,
        read_only_token=read_only_token,
        log_path=log_path,
    )
    return process.launch(ready_timeout)
