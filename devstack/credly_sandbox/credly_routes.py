"""Credly's /v1 routes: the organization, badges and badge templates, behind Basic auth."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response

from devstack.credly_sandbox import listing
from devstack.credly_sandbox.model import ApiError
from devstack.credly_sandbox.responses import data, json_body
from devstack.credly_sandbox.state import Sandbox

log = logging.getLogger(__name__)


def _page_url(request: Request):
    return lambda page: str(request.url.include_query_params(page=page))


def add_credly_routes(app: FastAPI, sandbox: Sandbox) -> None:
    store = sandbox.store
    org = "/v1/organizations/{org_id}"

    @app.get(org)
    async def get_organization(request: Request, org_id: str) -> Response:
        sandbox.authorize(request, org_id)
        return data({"id": sandbox.org_id, "name": sandbox.org_name})

    @app.post(org + "/badges")
    async def issue_badge(request: Request, org_id: str) -> Response:
        sandbox.authorize(request, org_id, write=True)
        badge = store.issue(await json_body(request))
        return data(store.render(badge), 201, metadata={})

    @app.get(org + "/badges")
    async def list_badges(request: Request, org_id: str) -> Response:
        sandbox.authorize(request, org_id)
        store.let_earners_act()
        params = request.query_params
        filters = listing.parse_filter(
            params.get("filter"),
            (
                "recipient_email",
                "recipient_email_all",
                "badge_template_id",
                "state",
                "issuer_earner_id",
                "query",
                "public",
            ),
        )
        sort = params.get("sort") or listing.DEFAULT_BADGE_SORT
        key = (store.version, params.get("filter"), sort)
        if sandbox.listed[0] != key:
            # Unchanged badges, the same query: the next page of a walk reuses the list.
            sandbox.listed = (key, listing.sort_records(
                listing.filter_badges(store, filters), sort, listing.BADGE_SORTS))
        chunk, metadata = listing.paginate(
            sandbox.listed[1], params.get("page"), params.get("per"), _page_url(request)
        )
        return data([store.render(badge) for badge in chunk], metadata=metadata)

    @app.get(org + "/badges/{badge_id}")
    async def get_badge(request: Request, org_id: str, badge_id: str) -> Response:
        sandbox.authorize(request, org_id)
        store.let_earners_act()
        return data(store.render(store.get(badge_id)))

    @app.put(org + "/badges/{badge_id}/revoke")
    async def revoke_badge(request: Request, org_id: str, badge_id: str) -> Response:
        sandbox.authorize(request, org_id, write=True)
        badge = store.revoke(badge_id, await json_body(request))
        log.info("revoked badge %s", badge_id)
        return data(store.render(badge))

    @app.post(org + "/badges/{badge_id}/replace")
    async def replace_badge(request: Request, org_id: str, badge_id: str) -> Response:
        sandbox.authorize(request, org_id, write=True)
        badge = store.replace(badge_id, await json_body(request))
        log.info("replaced badge %s with %s", badge_id, badge["id"])
        return data(store.render(badge), 201, metadata={})

    @app.delete(org + "/badges/{badge_id}")
    async def delete_badge(request: Request, org_id: str, badge_id: str) -> Response:
        sandbox.authorize(request, org_id, write=True)
        store.delete(badge_id)
        log.info("deleted badge %s", badge_id)
        return Response(status_code=204)

    @app.get(org + "/badge_templates")
    async def list_templates(request: Request, org_id: str) -> Response:
        sandbox.authorize(request, org_id)
        params = request.query_params
        filters = listing.parse_filter(params.get("filter"), ("state", "name", "id", "query"))
        records = listing.sort_records(
            listing.filter_templates(store, filters),
            params.get("sort") or listing.DEFAULT_TEMPLATE_SORT,
            listing.TEMPLATE_SORTS,
            lambda template: template["id"],
        )
        chunk, metadata = listing.paginate(
            records, params.get("page"), params.get("per"), _page_url(request)
        )
        return data(chunk, metadata=metadata)

    @app.get(org + "/badge_templates/{template_id}")
    async def get_template(request: Request, org_id: str, template_id: str) -> Response:
        sandbox.authorize(request, org_id)
        template = store.templates.get(template_id)
        if template is None:
            raise ApiError(404, "Badge template not found")
        return data(template)
