"""The seed's options, defined once for `python -m devstack.seed` and `python -m devstack seed`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date

from devstack.seed.records import SeedParams
from devstack.seed.writer import run_seed


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add what to generate: --from, --to, --rows, --dirty-rate, --seed, --correction-rate.

    Returns `parser`.
    """
    parser.add_argument("--from", dest="date_from", type=date.fromisoformat, required=True,
                        help="first Chicago day rows are entered (YYYY-MM-DD)")
    parser.add_argument("--to", dest="date_to", type=date.fromisoformat, required=True,
                        help="last Chicago day rows are entered, inclusive")
    parser.add_argument("--rows", type=int, required=True, help="Real-Time rows to add")
    parser.add_argument("--dirty-rate", type=float, default=0.05,
                        help="share of rows with an entry error (default 0.05)")
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same data")
    parser.add_argument(
        "--correction-rate", type=float, default=0.0,
        help="share of badge-earning rows corrected 1-14 days later (default 0): "
             "soft_delete, hard_delete, reassigned_student, reassigned_assessment (each "
             "expects the badge revoked, or nothing while another live row keeps it "
             "justified), email_fixed (move_email), name_fixed (replace_name), reentered "
             "(deleted and entered again that day: nothing); see devstack.seed_correction")
    return parser


def params_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> SeedParams:
    """The SeedParams the parsed options ask for; an impossible set is a usage error."""
    try:
        return SeedParams(args.date_from, args.date_to, args.rows, args.dirty_rate, args.seed,
                          args.correction_rate)
    except ValueError as error:
        parser.error(str(error))  # exits


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m devstack.seed --from … --to … --rows N --ctims-dsn … --badging-dsn …`."""
    parser = add_arguments(argparse.ArgumentParser(
        prog="python -m devstack.seed",
        description="Add deterministic synthetic CTIMS data to the databases given."))
    parser.add_argument("--ctims-dsn", required=True)
    parser.add_argument("--badging-dsn", required=True)
    args = parser.parse_args(argv)
    print(run_seed(params_from(args, parser), args.ctims_dsn, args.badging_dsn))
    return 0
