"""CTIMS's names beside the codes on every console page, as the correction report shows them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from badging.console import source
from badging.pipeline.extract import Names


def read(conn: Any, *, sites: Iterable[str | None] = (), programs: Iterable[str | None] = (),
         assessments: Iterable[str | None] = ()) -> Names:
    """The names the report task last copied from CTIMS for these codes (none for a code it
    never saw: the page shows the code alone)."""
    found = Names()
    by_kind = {"site": found.sites, "program": found.programs, "assessment": found.assessments}
    params = {"sites": sorted({c for c in sites if c}),
              "programs": sorted({c for c in programs if c}),
              "assessments": sorted({c for c in assessments if c})}
    if any(params.values()):
        for row in source.rows(conn, "console/names.sql", params):
            by_kind[row["kind"]][row["code"]] = row["name"]
    return found
