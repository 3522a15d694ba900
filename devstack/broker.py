"""A Redis of its own for Celery's broker: the distribution's redis-server, nothing on disk."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from devstack.ports import free_port

INSTALL_HINT = "`make test-distributed` installs it (apt-get install redis-server)"


class RedisBroker:
    """redis-server as a child process on a free loopback port, in `workdir`, with persistence
    off, from `start()` to `stop()`."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_file(self) -> Path:
        return self.workdir / "redis.log"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 20.0) -> None:
        """Start redis-server and wait until it answers PING.

        Raises:
            RuntimeError: redis-server is not installed, or exited during start.
            TimeoutError: it did not answer within `timeout` seconds.
        """
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError(f"redis-server not found: {INSTALL_HINT}")
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", str(self.workdir)]
        with self.log_file.open("ab") as log:
            # Its own session: a Ctrl-C at the terminal reaches only us, and we stop it.
            self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.ping():
            if not self.running:
                raise RuntimeError(f"redis-server exited during start; see {self.log_file}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"redis-server not answering after {timeout:.0f}s")
            time.sleep(0.1)

    def ping(self) -> bool:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it is still there after `timeout` seconds."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
