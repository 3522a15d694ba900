"""The local SMTP server (aiosmtpd): every message it accepts becomes one .eml file in a folder.

`python -m devstack.mail_sink --port N --folder DIR` serves until SIGTERM; `devstack up` starts
it and `down` stops it. Recipients at `refused.invalid` are refused (a bad address, for tests).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devstack.errors import DevstackError
from devstack.ports import port_in_use

REPO_ROOT = Path(__file__).resolve().parents[1]
REFUSED_DOMAIN = "refused.invalid"
READY_TIMEOUT_S = 15.0


class EmlWriter:
    """aiosmtpd handler: writes each accepted message to `folder` as <time>-<n>.eml."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._numbers = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith("@" + REFUSED_DOMAIN):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{os.getpid()}-{next(self._numbers)}.eml"
        partial = self.folder / f".{name}.part"
        # Written aside, then renamed: a reader never sees half a message.
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.rename(self.folder / name)
        return "250 Message accepted for delivery"


async def _serve(host: str, port: int, folder: Path) -> None:
    from aiosmtpd.smtp import SMTP

    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(EmlWriter(folder)), host, port)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def messages(folder: Path) -> list[Path]:
    """The .eml files in `folder`, oldest first."""
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def start(host: str, port: int, folder: Path, log_path: Path) -> int:
    """Start the sink as a detached child; returns its pid once it accepts connections.

    Raises:
        DevstackError: the port is taken, or the sink did not come up.
    """
    if port_in_use(port):
        raise DevstackError(f"port {port} is in use by another program; start the stack on "
                            "another one: DEVSTACK_SMTP_PORT=<free port> make up (or make run)")
    folder.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack.mail_sink", "--host", host, "--port", str(port),
             "--folder", str(folder)],
            cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DevstackError(f"the SMTP sink exited with {process.returncode}; see {log_path}")
        if port_in_use(port):
            return process.pid
        time.sleep(0.05)
    process.kill()
    raise DevstackError(f"the SMTP sink did not listen on port {port}; see {log_path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.mail_sink", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.host, args.port, args.folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
