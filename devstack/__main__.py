"""`python -m devstack …`: the local stack, for development and tests only (never deployed)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date


def _up():
    """Start the stack and make Airflow's metadata database ready; say what was done."""
    from devstack import airflow_local
    from devstack.stack import Stack

    stack = Stack.configured()
    did = stack.up()
    if airflow_local.ensure_prepared(stack):
        did.append("airflow metadata database migrated; pools and variables imported")
    for line in did or ["everything already running"]:
        print(f"devstack: {line}")
    return stack


def _cmd_up(args: argparse.Namespace) -> int:
    stack = _up()
    print(f"devstack: `source {stack.paths.env_file}` to point Airflow at it")
    return 0


def _cmd_down(args: argparse.Namespace) -> int:
    from devstack.stack import Stack

    for line in Stack.configured().down() or ["nothing was running"]:
        print(f"devstack: {line}")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from devstack.stack import Stack

    for name, value in Stack.configured().status().items():
        print(f"{name:>15}: {value}")
    return 0


def _cmd_seed(args: argparse.Namespace) -> int:
    from devstack import seed
    from devstack.stack import Stack

    stack = Stack.configured()
    if args.if_empty and seed.has_certifications(stack.dsn("ctims"), args.date_from,
                                                 args.date_to):
        print(f"devstack: CTIMS already holds Real-Time rows entered {args.date_from}.."
              f"{args.date_to}; not seeding them again (--if-empty)")
        return 0
    report = seed.run_seed(seed.params_from(args, args.parser), stack.dsn("ctims"),
                           stack.dsn("badging"))
    print(f"devstack: seeded {report}")
    print(f"devstack: the Credly sandbox knows {stack.sync_templates()} badge templates")
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    from devstack.stack import Stack
    from devstack.summary import print_summary

    return print_summary(Stack.configured().dsn("badging"), args.date)


def _cmd_run_dag(args: argparse.Namespace) -> int:
    from devstack import airflow_local
    from devstack.summary import print_summary

    stack = _up()
    log_path = stack.paths.root / "logs" / f"run-dag-{args.date}.log"
    print(f"devstack: running {airflow_local.DAG_ID} for {args.date} "
          f"(Airflow's log: {log_path})")
    exit_code = airflow_local.run_day_reporting(stack, args.date.isoformat(), args.conf,
                                                log_path)
    print_summary(stack.dsn("badging"), args.date)
    print(f"airflow dags test exited {exit_code}"
          + ("" if exit_code == 0 else f"; the reason is in {log_path}"))
    return exit_code


def _cmd_airflow(args: argparse.Namespace) -> int:
    from devstack import airflow_local, seed

    stack = _up()
    if not seed.has_certifications(stack.dsn("ctims")):
        print("devstack: CTIMS holds no Real-Time rows yet; `make run` loads the demo history")
    return airflow_local.serve(stack, args.port)


def main(argv: list[str] | None = None) -> int:
    from devstack.seed import cli as seed_options

    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start Postgres and the Credly sandbox, migrate, "
                        "write .devstack/env")
    commands.add_parser("down", help="stop what `up` started")
    commands.add_parser("status", help="say what runs where")
    seed_cmd = commands.add_parser("seed", help="add deterministic synthetic CTIMS data")
    seed_options.add_arguments(seed_cmd)
    # The subparser, so that an impossible combination is reported as a usage error.
    seed_cmd.set_defaults(parser=seed_cmd)
    seed_cmd.add_argument("--if-empty", action="store_true",
                          help="do nothing when Real-Time rows entered in --from..--to "
                          "already exist (make run, make up)")
    summary_cmd = commands.add_parser("summary", help="print the run summary of a processed day")
    summary_cmd.add_argument("--date", type=date.fromisoformat, required=True)
    run_cmd = commands.add_parser("run-dag", help="run the DAG for one day through Airflow "
                                  "(`airflow dags test`), then print its summary")
    run_cmd.add_argument("--date", type=date.fromisoformat, required=True)
    run_cmd.add_argument("--conf", help="JSON params for the run, e.g. '{\"dry_run\": true}'")
    airflow_cmd = commands.add_parser("airflow", help="a real Airflow on the stack (scheduler, "
                                      "API server and UI, DAG processor, triggerer) until Ctrl-C")
    airflow_cmd.add_argument("--port", type=int, default=8080, help="API server and UI port")
    args = parser.parse_args(argv)
    handlers = {"up": _cmd_up, "down": _cmd_down, "status": _cmd_status, "seed": _cmd_seed,
                "summary": _cmd_summary, "run-dag": _cmd_run_dag, "airflow": _cmd_airflow}
    from devstack.errors import DevstackError

    try:
        return handlers[args.command](args)
    except DevstackError as error:
        print(f"devstack: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
