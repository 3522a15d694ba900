"""Every SQL statement the pipeline runs lives in include/sql; this module finds and loads them."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path


def include_dir() -> Path:
    """The deployed include/ folder: beside plugins/ in an Astro-style project.

    BADGING_INCLUDE_DIR overrides it for deployments that mount include/ elsewhere.
    """
    override = os.environ.get("BADGING_INCLUDE_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[3] / "include"


@cache
def load(name: str) -> str:
    """Return the text of include/sql/<name>, e.g. load("pipeline/issue/claim.sql")."""
    return (include_dir() / "sql" / name).read_text(encoding="utf-8")
