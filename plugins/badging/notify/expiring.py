"""The morning lists' monthly section: each site's badges expiring within 60 days
(docs/notifications.md), certification ids with assessment and program names, no student
data. On each site's first list of the month."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from badging.core import db
from badging.core.constants import EXPIRING_WITHIN_DAYS
from badging.pipeline import extract
from badging.reports.correction_page import Coded

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExpiringRow:
    """One badge expiring soon, as a site's list shows it."""

    certification_id: int
    assessment: Coded
    program: Coded
    expires_on: date


def expiring_by_site(conn: psycopg.Connection, day: date, now: datetime, *,
                     ctims: str = db.CTIMS_CONN_ID) -> dict[str, list[ExpiringRow]]:
    """Per site code, its badges expiring within EXPIRING_WITHIN_DAYS of `now`, for the sites
    whose first list of the month `day`'s is; names from CTIMS (codes alone if it is down)."""
    already = {site for (site,) in db.execute(
        conn, "notify/site_lists/listed_this_month.sql", {"day": day})}
    rows = [row for row in db.execute(conn, "notify/site_lists/expiring.sql",
                                      {"now": now, "days": EXPIRING_WITHIN_DAYS})
            if row[0] not in already]
    if not rows:
        return {}
    try:
        names = extract.names(programs={r[3] for r in rows if r[3]},
                              assessments={r[2] for r in rows if r[2]}, ctims=ctims)
    except psycopg.OperationalError as error:
        log.warning("expiring badges listed without CTIMS names (%s)", type(error).__name__)
        names = extract.Names()
    found: dict[str, list[ExpiringRow]] = defaultdict(list)
    for site, certification_id, assessment, program, expires_on in rows:
        found[site].append(ExpiringRow(
            certification_id, Coded(assessment, names.assessments.get(assessment)),
            Coded(program, names.programs.get(program)), expires_on))
    return dict(found)
