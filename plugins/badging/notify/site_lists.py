"""The morning lists: each technology center's entries to fix, mailed to its contact once a day."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import asdict, dataclass, field
from datetime import date
from urllib.parse import quote

import psycopg

from badging.core import clock, db
from badging.core.constants import EXPIRING_WITHIN_DAYS, SITE_LIST_MAX_ATTEMPTS, Delivery
from badging.core.run import RunInfo
from badging.notify.expiring import ExpiringRow, expiring_by_site
from badging.reports.correction import NO_SITE, CorrectionData, collect
from badging.reports.correction_page import GroupRow, site_view
from badging.reports.templates import templates

log = logging.getLogger(__name__)

SMTP_CONN_ID = "smtp_default"
# Where links in messages point when `[api] base_url` is not set.
DEFAULT_BASE_URL = "http://localhost:8080"


def base_url() -> str:
    """Airflow's `[api] base_url`: the start of every link in a message."""
    from airflow.sdk.configuration import conf

    return conf.get("api", "base_url", fallback=None) or DEFAULT_BASE_URL


def console_url(base: str, site_code: str) -> str:
    """The site's page in the Badging console (docs/console.md): its open items."""
    return f"{base.rstrip('/')}/badging/sites/{quote(site_code, safe='')}"


def entries_to_fix(data: CorrectionData) -> dict[str, list[GroupRow]]:
    """Per site code, the correction report's groups someone at the site can act on.

    Rows without a site code have nobody to tell (the report lists them); groups whose action
    is "Nothing: …" (deleted, vendor badge, opted out, …) are not entries to fix.
    """
    found = {}
    for site, section in data.sites.items():
        if site == NO_SITE:
            continue
        groups = [g for g in site_view(section).groups if g.shade != "info"]
        if groups:
            found[site] = groups
    return found


@dataclass(frozen=True)
class SiteListView:
    """What notify/site_list.html.j2 shows: a site code, ids, reasons, actions, a link, and
    on the month's first list the badges expiring soon (ids and names, no student data)."""

    site_code: str
    day_heading: str
    count: int
    groups: list[GroupRow]
    console_url: str
    expiring: list[ExpiringRow] = field(default_factory=list)
    expiring_days: int = EXPIRING_WITHIN_DAYS


def render_list(site_code: str, day: date, groups: list[GroupRow], base: str,
                expiring: list[ExpiringRow] | None = None) -> tuple[str, str]:
    """A site's list as (subject, HTML body)."""
    count = sum(len(g.ids) for g in groups)
    expiring = expiring or []
    view = SiteListView(site_code, f"{day:%A %d %B %Y}", count, groups,
                        console_url(base, site_code), expiring)
    soon = (f"{len(expiring)} {'badge' if len(expiring) == 1 else 'badges'} expiring within "
            f"{EXPIRING_WITHIN_DAYS} days")
    if count:
        subject = (f"CTIMS: {count} Real-Time {'entry' if count == 1 else 'entries'} to "
                   f"correct at site {site_code}{f' and {soon}' if expiring else ''} "
                   f"({day.isoformat()})")
    else:
        subject = f"CTIMS: {soon} at site {site_code} ({day.isoformat()})"
    body = templates().get_template("notify/site_list.html.j2").render(v=view)
    return subject, body


@dataclass
class ListCounts:
    """What one notify task did (XCom and its log line): counts only."""

    sites_with_entries: int = 0
    # Sites whose list has the monthly section of badges expiring soon.
    sites_with_expiring: int = 0
    switched_off: int = 0
    no_contact: int = 0
    new: int = 0
    listed_before: int = 0
    sent: int = 0
    failed: int = 0
    # Left `sending` by a crash mid-send, or failed SITE_LIST_MAX_ATTEMPTS times: a person
    # decides (docs/notifications.md).
    unknown: int = 0
    given_up: int = 0


def write_lists(conn: psycopg.Connection, run: RunInfo, base: str, counts: ListCounts, *,
                ctims: str = db.CTIMS_CONN_ID) -> None:
    """Record one list for each site with entries to fix, or whose first list of the month
    lists badges expiring soon, unless the site has one for the day."""
    entries = entries_to_fix(collect(conn, run))
    expiring = expiring_by_site(conn, run.day, clock.now(), ctims=ctims)
    counts.sites_with_entries = len(entries)
    counts.sites_with_expiring = len(expiring)
    sites = sorted(set(entries) | set(expiring))
    contacts = {code: (email, enabled) for code, email, enabled in db.execute(
        conn, "notify/site_lists/site_contacts.sql", {"site_codes": sites})}
    for site_code in sites:
        groups = entries.get(site_code, [])
        email, enabled = contacts.get(site_code, (None, True))
        if not enabled:
            counts.switched_off += 1
            continue
        if not email:
            counts.no_contact += 1
            continue
        subject, body = render_list(site_code, run.day, groups, base, expiring.get(site_code))
        inserted = db.execute(conn, "notify/site_lists/insert_list.sql", {
            "site_code": site_code, "day": run.day, "run_id": run.run_id, "recipient": email,
            "certification_ids": sorted(i for g in groups for i in g.ids),
            "subject": subject, "body": body}).fetchone()
        if inserted:
            counts.new += 1
        else:
            counts.listed_before += 1
    conn.commit()


def error_name(error: BaseException) -> str:
    """The error's class and SMTP code: its text can echo the address, so it is never kept."""
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code = min((c for c, _ in error.recipients.values()), default=None)
    return f"{type(error).__name__} (SMTP {code})" if code else type(error).__name__


def _delivery_errors() -> tuple[type[BaseException], ...]:
    from airflow.sdk.exceptions import AirflowException

    # Unreachable relay, refused address, lost connection; the hook wraps some as
    # AirflowException ("Unable to connect to smtp server").
    return OSError, smtplib.SMTPException, AirflowException


def deliver(conn: psycopg.Connection, holder: str, counts: ListCounts,
            smtp_conn_id: str = SMTP_CONN_ID) -> None:
    """Send every due list (this run's and earlier failed ones): claim, send, mark.

    A delivery failure is recorded on the list and never raised: the next run retries it.
    """
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    limit = {"max_attempts": SITE_LIST_MAX_ATTEMPTS}
    due = [list_id for (list_id,) in db.execute(conn, "notify/site_lists/due_lists.sql", limit)]
    conn.commit()
    if due:
        hook = SmtpHook(smtp_conn_id)
        try:
            hook.get_conn()
        except _delivery_errors() as error:
            db.execute(conn, "notify/site_lists/fail_unsent.sql",
                       {"site_list_ids": due, "error": error_name(error)})
            conn.commit()
            counts.failed += len(due)
            log.warning("SMTP relay %r unreachable (%s): %d lists left for the next run",
                        smtp_conn_id, error_name(error), len(due))
        else:
            with hook:
                for list_id in due:
                    _send_one(conn, hook, list_id, holder, counts)
    counts.unknown, counts.given_up = db.execute(
        conn, "notify/site_lists/unsettled.sql", {"holder": holder, **limit}).fetchone()
    conn.commit()


def _send_one(conn: psycopg.Connection, hook, list_id: int, holder: str,
              counts: ListCounts) -> None:
    claimed = db.execute(conn, "notify/site_lists/claim_list.sql", {
        "site_list_id": list_id, "holder": holder,
        "max_attempts": SITE_LIST_MAX_ATTEMPTS}).fetchone()
    # Committed before the call, and no transaction stays open during it.
    conn.commit()
    if claimed is None:
        return  # another run took it meanwhile
    site_code, recipient, subject, body = claimed
    error = None
    try:
        hook.send_email_smtp(to=recipient, subject=subject, html_content=body)
    except _delivery_errors() as caught:
        error = error_name(caught)
        log.warning("list for site %s not delivered (%s): the next run retries it",
                    site_code, error)
    db.execute(conn, "notify/site_lists/finish_list.sql", {
        "site_list_id": list_id, "holder": holder, "error": error,
        "delivery": Delivery.FAILED if error else Delivery.SENT})
    conn.commit()
    if error:
        counts.failed += 1
    else:
        counts.sent += 1


def send_site_lists(run: RunInfo, *, write_new: bool, badging: str = db.BADGING_CONN_ID,
                    smtp_conn_id: str = SMTP_CONN_ID, base: str | None = None,
                    ctims: str = db.CTIMS_CONN_ID) -> dict[str, int]:
    """Write this run's lists (when `write_new`) and deliver every list not yet sent.

    Args:
        run: the run; its correction data decides the lists.
        write_new: whether this run's entries make lists (false when its rows were not all
            decided, e.g. validation failed): earlier failed lists are still retried.
        badging: the ledger's connection id or DSN.
        smtp_conn_id: the Airflow SMTP connection.
        base: the start of links; `[api] base_url` if None.
        ctims: CTIMS (read-only), for the names in the monthly section of expiring badges.

    Returns:
        ListCounts as a dict (counts only).
    """
    counts = ListCounts()
    with db.connect(badging) as conn:
        if write_new:
            write_lists(conn, run, base or base_url(), counts, ctims=ctims)
        deliver(conn, run.holder, counts, smtp_conn_id)
    log.info("morning lists for %s: %s", run.day,
             ", ".join(f"{k} {v}" for k, v in asdict(counts).items()))
    if counts.unknown or counts.given_up:
        log.warning("%d lists were left 'sending' by a crash and %d failed %d times: see "
                    "badging.site_list and docs/notifications.md", counts.unknown,
                    counts.given_up, SITE_LIST_MAX_ATTEMPTS)
    return asdict(counts)
