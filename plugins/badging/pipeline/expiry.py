"""Each badge's expiry, from the ledger's validities and Credly's templates (docs/ledger.md,
"Expiry"): which validity applies to an assessment, what Credly's template list says of each
template's default, and the expiry of staged rows for the statements that decide by it."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import psycopg

from badging.core import db, sql
from badging.core.validity import Validity
from badging.credly.payloads import TEMPLATE_DEFAULT, Expiry, template_expiry_days

log = logging.getLogger(__name__)


class Validities:
    """The validity in force for each assessment with a Credly template (by assessment code);
    an assessment it does not know has an unknown validity."""

    def __init__(self, by_assessment: Mapping[str, Validity]):
        self._by_assessment = dict(by_assessment)

    def __getitem__(self, assessment_code: str) -> Validity:
        return self._by_assessment.get(assessment_code, Validity())

    def expiry(self, assessment_code: str, test_date: date | None) -> Expiry:
        """What Credly is sent as the badge's expires_at: the end of its expiry day, never,
        or nothing (the template's default, when the validity is unknown; a test date CTIMS
        lost meanwhile fails the badge's request on its own)."""
        validity = self[assessment_code]
        if test_date is None:
            return TEMPLATE_DEFAULT
        if validity.never:
            return Expiry(never=True)
        moment = validity.expires_at(test_date)
        return Expiry(at=moment) if moment else TEMPLATE_DEFAULT


def validities(conn: psycopg.Connection,
               templates: Iterable[Mapping[str, Any]] | None = None) -> Validities:
    """Read the agency's validities and the templates' defaults as last recorded; `templates`
    (Credly's list, just read) wins over what was recorded."""
    listed = {str(t["id"]): template_expiry_days(t) for t in templates or () if t.get("id")}
    found = {}
    for code, template_id, months, never, read, days in db.execute(
            conn, "pipeline/expiry/validities.sql"):
        if template_id in listed:
            read, days = True, listed[template_id]
        found[code] = Validity.resolve(valid_months=months, never=never, template_read=read,
                                       template_days=days)
    return Validities(found)


def record_templates(conn: psycopg.Connection, templates: Iterable[Mapping[str, Any]],
                     read_at: datetime) -> int:
    """Keep what Credly's template list says of each template's default expiry
    (badging.credly_template), for the runs that do not read it; returns how many."""
    listed = [(str(t["id"]), template_expiry_days(t)) for t in templates if t.get("id")]
    db.execute(conn, "pipeline/expiry/record_templates.sql", {
        "template_ids": [i for i, _ in listed], "expires_in_days": [d for _, d in listed],
        "read_at": read_at})
    return len(listed)


def stage_expiry(conn: psycopg.Connection, statement: str, params: Mapping[str, Any],
                 found: Validities, now: datetime) -> int:
    """Compute the expiry of the rows `statement` selects (certification id, assessment
    code, test date) into the transaction's temp table row_expiry, for the statements that
    decide by it; returns how many rows. The arithmetic is Python's (badging.core.validity)."""
    rows = db.execute(conn, statement, dict(params)).fetchall()
    db.execute(conn, "pipeline/expiry/row_expiry_table.sql")
    with conn.cursor() as cur, cur.copy(sql.load("pipeline/expiry/row_expiry_copy.sql")) as copy:
        for certification_id, assessment_code, test_date in rows:
            validity = found[assessment_code]
            copy.write_row((certification_id, validity.expires_at(test_date), validity.known,
                            validity.expired(test_date, now)))
    return len(rows)
