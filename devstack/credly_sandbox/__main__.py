"""Command line: `python -m devstack.credly_sandbox --port P --state S --org-id ID --token T`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import uvicorn

from devstack.credly_sandbox.app import create_app
from devstack.credly_sandbox.behavior import REVOKED_BLOCKS_REISSUE_ENV, Behavior, env_flag
from devstack.credly_sandbox.faults import Faults, parse_knobs
from devstack.credly_sandbox.model import ApiError
from devstack.credly_sandbox.state import Settings

# Tokens may come from the environment so they never show in `ps`.
TOKEN_ENV = "CREDLY_SANDBOX_TOKEN"
READ_ONLY_TOKEN_ENV = "CREDLY_SANDBOX_READ_ONLY_TOKEN"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devstack.credly_sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--state", type=Path, required=True, help="SQLite file (created if absent)")
    parser.add_argument(
        "--org-id", required=True, help="the organization UUID the token belongs to"
    )
    parser.add_argument("--org-name", default="Credly Sandbox Organization")
    parser.add_argument("--token", default=None, help=f"read-write token (default: ${TOKEN_ENV})")
    parser.add_argument(
        "--read-only-token", default=None, help=f"read-only token (default: ${READ_ONLY_TOKEN_ENV})"
    )
    parser.add_argument(
        "--templates", type=Path, default=None, help="JSON list of templates to upsert"
    )
    parser.add_argument(
        "--revoked-blocks-reissue",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a revoked badge still counts as a duplicate of a new one "
        f"(default: ${REVOKED_BLOCKS_REISSUE_ENV}, else off)",
    )
    faults = parser.add_argument_group("faults (all off by default)")
    faults.add_argument("--latency-ms", type=float)
    faults.add_argument("--latency-jitter-ms", type=float)
    faults.add_argument("--error-rate", type=float)
    faults.add_argument("--throttle-rate", type=float)
    faults.add_argument("--retry-after-s", type=float)
    faults.add_argument("--timeout-rate", type=float)
    faults.add_argument("--timeout-hang-s", type=float)
    faults.add_argument("--lost-response-rate", type=float)
    faults.add_argument("--rate-limit-rps", type=float)
    faults.add_argument("--seed", type=int)
    return parser


def settings_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Settings:
    token = args.token or os.environ.get(TOKEN_ENV)
    if not token:
        parser.error(f"--token or ${TOKEN_ENV} is required")
    knobs = {
        name: getattr(args, name)
        for name in Faults.__dataclass_fields__
        if getattr(args, name) is not None
    }
    templates = []
    try:
        faults = Faults(**parse_knobs(knobs))
        revoked_blocks = args.revoked_blocks_reissue
        if revoked_blocks is None:
            revoked_blocks = bool(env_flag(REVOKED_BLOCKS_REISSUE_ENV))
        if args.templates:
            templates = json.loads(args.templates.read_text())
            if not isinstance(templates, list):
                parser.error("--templates must hold a JSON list")
    except ApiError as exc:
        parser.error(exc.message)
    except (OSError, ValueError) as exc:
        parser.error(f"cannot read --templates: {exc}")
    return Settings(
        state_path=args.state,
        org_id=args.org_id,
        token=token,
        read_only_token=args.read_only_token or os.environ.get(READ_ONLY_TOKEN_ENV),
        org_name=args.org_name,
        templates=templates,
        faults=faults,
        behavior=Behavior(revoked_blocks_reissue=revoked_blocks),
    )


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    settings = settings_from(args, parser)
    args.state.parent.mkdir(parents=True, exist_ok=True)
    try:
        app = create_app(settings)
    except ApiError as exc:
        parser.error(f"bad template in --templates: {exc.message}")
    logging.getLogger("devstack.credly_sandbox").info(
        "serving http://%s:%d/v1 (state %s)", args.host, args.port, args.state
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        access_log=False,
        log_level="warning",
        # Hung requests (the timeout fault) must not hold a SIGTERM up for long.
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
