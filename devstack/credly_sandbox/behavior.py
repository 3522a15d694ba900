"""Switches for Credly rules we could not confirm, so tests can play either reading.

Unlike faults these model Credly itself, so `/_sandbox/reset` and `DELETE /_sandbox/behavior`
put them back to how the sandbox was launched (`--revoked-blocks-reissue` or its env), not to
the defaults.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from devstack.credly_sandbox.model import ApiError

REVOKED_BLOCKS_REISSUE_ENV = "CREDLY_SANDBOX_REVOKED_BLOCKS_REISSUE"


@dataclass(frozen=True)
class Behavior:
    """Each default is the reading the pipeline is tested against unless a test says otherwise."""

    # Whether a revoked badge still counts as a duplicate of a new one (template + email or
    # earner id). Credly does not document it; off means revoke-then-reissue works.
    revoked_blocks_reissue: bool = False
    # Whether an expired badge still counts as a duplicate of a new one. Credly does not
    # document it either; off means an earner whose badge expired can earn it again (the
    # renewal path, docs/ledger.md "Certification periods"); on, the renewal is refused.
    expired_blocks_reissue: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


SWITCHES = tuple(field.name for field in fields(Behavior))


def parse_switches(raw: Any) -> dict[str, bool]:
    """Validate a partial set of switches (the JSON body of POST /_sandbox/behavior)."""
    if not isinstance(raw, Mapping):
        raise ApiError(422, "behavior must be a JSON object")
    unknown = sorted(set(raw) - set(SWITCHES))
    if unknown:
        raise ApiError(422, f"unknown behavior switches: {', '.join(unknown)}")
    for name, value in raw.items():
        if not isinstance(value, bool):
            raise ApiError(422, f"{name} must be true or false")
    return dict(raw)


def env_flag(name: str) -> bool | None:
    """A boolean from the environment: 1/true/yes or 0/false/no; unset or empty is None."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise ApiError(422, f"${name} must be 1/true/yes or 0/false/no")
