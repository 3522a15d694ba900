"""Who sees what on the console (docs/outcomes.md, "Who sees what").

Operators are the Airflow users who may edit the DAG (Airflow's own `requires_access_dag("PUT")`,
the auth manager's decision): they see every site, student ids and Credly badge ids. Any other
user who may read the DAG sees the sites an operator mapped to them in
badging.console_site_user, and nothing else: a site of theirs or 403.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from badging.console import source

# A mapping to every site: an agency reader (leadership) who is not an operator.
ALL_SITES = "*"
SITE_CODE = re.compile(r"^[0-9]{9}$")
# Airflow user names as operators type them (the simple and FAB auth managers' usernames).
USERNAME = re.compile(r"^[A-Za-z0-9._@+-]{1,150}$")


class Forbidden(Exception):
    """The viewer may not see this (HTTP 403); the message names no data."""


@dataclass(frozen=True)
class Viewer:
    """The Airflow user behind a request, as the console sees them."""

    name: str
    operator: bool
    sites: frozenset[str] = frozenset()

    @property
    def all_sites(self) -> bool:
        return self.operator or ALL_SITES in self.sites

    def scope(self) -> list[str] | None:
        """The site codes a query keeps (None: every site)."""
        return None if self.all_sites else sorted(self.sites)

    def may_see(self, site_code: str | None) -> bool:
        return self.all_sites or (site_code or "") in self.sites

    def require_site(self, site_code: str | None) -> None:
        if not self.may_see(site_code):
            raise Forbidden("this site is not one of yours")

    def require_operator(self) -> None:
        if not self.operator:
            raise Forbidden("only operators (users who may edit the DAG) see this")


def viewer_for(name: str, *, operator: bool, sites: set[str]) -> Viewer:
    """The Viewer of an Airflow user who may read the DAG: every site for an operator, the
    mapped sites for anyone else.

    Raises:
        Forbidden: neither an operator nor mapped to a site.
    """
    if not operator and not sites:
        raise Forbidden("no technology center is mapped to this Airflow user: an operator "
                        "maps it on the console's Access page")
    return Viewer(name, operator, frozenset() if operator else frozenset(sites))


def viewer_dependency() -> Callable[..., Viewer]:
    """A FastAPI dependency that finds the request's Viewer and keeps it on request.state.

    Runs after the app's `requires_access_dag("GET")` (401 without a user, 403 without read).
    A reader who is neither an operator nor mapped to a site: 403.
    """
    from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
    from fastapi import HTTPException, Request

    from badging.core.constants import DAG_ID

    may_edit = requires_access_dag("PUT", param_dag_id=DAG_ID)

    def current_viewer(request: Request, user: GetUserDep) -> Viewer:
        try:
            may_edit(request, user)
            operator = True
        except HTTPException as refused:
            if refused.status_code != 403:
                raise
            operator = False
        name = user.get_name()
        sites: set[str] = set()
        if not operator:
            with source.reading() as conn:
                sites = {row["site_code"] for row in source.rows(
                    conn, "console/access_sites.sql", {"username": name})}
        request.state.viewer = viewer_for(name, operator=operator, sites=sites)
        return request.state.viewer

    # The types themselves, not their names: this module's annotations are strings (PEP 563)
    # that FastAPI would resolve in the module's globals, where these local imports are not.
    current_viewer.__annotations__ = {"request": Request, "user": GetUserDep, "return": Viewer}
    return current_viewer


def same_origin(headers: Any, host_url: str) -> bool:
    """Whether a state-changing request comes from a page of this server (CSRF).

    The browser's Origin header (or, without it, the Referer) must name this host; a request
    with neither is refused unless it carries its own Bearer token (a script, which no other
    site can make a browser send).
    """
    if (headers.get("authorization") or "").lower().startswith("bearer "):
        return True
    here = urlsplit(host_url)
    claimed = headers.get("origin") or headers.get("referer")
    if not claimed or claimed == "null":
        return False
    there = urlsplit(claimed)
    return (there.scheme, there.netloc) == (here.scheme, here.netloc)


def redact_badge_ids(trail: Any) -> Any:
    """The trail without Credly badge ids (a badge's public page names its earner): for
    everyone but operators, in the page and the JSON alike."""
    ids = {str(b.fields.get("credly_badge_id")) for b in trail.badges
           if b.fields.get("credly_badge_id")}
    for c in trail.corrections:
        ids |= {str(c.fields[k]) for k in ("credly_badge_id", "replacement_badge_id")
                if c.fields.get(k)}
    badges = [replace(b, fields={**b.fields, "credly_badge_id": None}) for b in trail.badges]
    corrections = [replace(c, fields={**c.fields, "credly_badge_id": None,
                                      "replacement_badge_id": None})
                   for c in trail.corrections]
    events = [replace(e, detail={k: v for k, v in e.detail.items() if "badge_id" not in k})
              for e in trail.events]
    headline = trail.headline
    for badge_id in ids:
        headline = headline.replace(badge_id, "(shown to operators)")
    return replace(trail, headline=headline, badges=badges, corrections=corrections,
                   events=events)


def site_of(trail: Any) -> str | None:
    """Where a certification was entered: its newest staged row's site, else its badge's."""
    for staged in trail.staged:
        if staged.site_code:
            return staged.site_code
    for badge in trail.badges:
        if badge.fields.get("site_code"):
            return badge.fields["site_code"]
    return None
