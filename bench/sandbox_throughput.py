"""Issue-path throughput of the Credly sandbox at zero latency (requests per second)."""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from devstack.credly_sandbox.process import start_sandbox
from devstack.ports import free_port

TEMPLATE_ID = "bench-template"


def _session_factory(token: str):
    local = threading.local()

    def session() -> requests.Session:
        # One pooled keep-alive session per thread: requests.Session is not thread-safe.
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.auth = (token, "")
            local.session.trust_env = False
        return local.session

    return session


def run(total: int, threads: int) -> dict[str, float | int]:
    org_id = str(uuid.uuid4())
    token = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as tmp:
        sandbox = start_sandbox(
            port=free_port(),
            state_path=Path(tmp) / "sandbox.sqlite",
            org_id=org_id,
            token=token,
            templates=[{"id": TEMPLATE_ID, "name": "Bench", "state": "active"}],
        )
        try:
            url = f"{sandbox.base_url}/organizations/{org_id}/badges"
            session = _session_factory(token)

            def issue(n: int) -> int:
                body = {
                    "recipient_email": f"bench-{n}@example.org",
                    "badge_template_id": TEMPLATE_ID,
                    "issued_to_first_name": "Bench",
                    "issued_to_last_name": f"Earner{n}",
                    "issued_at": "2024-05-01 10:00:00 -0500",
                    "issuer_earner_id": f"earner-{n}",
                }
                return session().post(url, json=body, timeout=30).status_code

            with ThreadPoolExecutor(threads) as pool:
                # Warm the connections and the server's code paths outside the timed window.
                list(pool.map(issue, range(total, total + threads * 4)))
                started = time.perf_counter()
                statuses = list(pool.map(issue, range(total)))
                elapsed = time.perf_counter() - started
        finally:
            sandbox.stop()
    failures = sum(1 for status in statuses if status != 201)
    if failures:
        raise SystemExit(f"{failures} of {total} issue requests did not return 201")
    return {"sandbox_rps": round(total / elapsed, 1), "requests": total, "threads": threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--requests", type=int, default=3000)
    parser.add_argument("-t", "--threads", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = run(args.requests, args.threads)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['sandbox_rps']} issue requests/s "
            f"({result['requests']} requests, {result['threads']} threads)"
        )


if __name__ == "__main__":
    main()
