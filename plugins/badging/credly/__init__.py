"""Credly's API v1: payloads, error classification, transport, the client and its Airflow hook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from badging.credly.classification import (
    DUPLICATE_MARKER,
    classify_response,
    classify_transport_error,
    encode_filter,
    parse_retry_after,
    safe_detail,
)
from badging.credly.client import CredlyClient
from badging.credly.payloads import (
    ISSUED_AT_FORMAT,
    REVOKED,
    TEMPLATE_DEFAULT,
    BadgeRequest,
    Expiry,
    IssuedBadge,
    IssueResult,
    format_issued_at,
    template_expiry_days,
)
from badging.credly.transport import shared_session

if TYPE_CHECKING:
    from badging.credly.hook import CredlyHook

__all__ = [
    "DUPLICATE_MARKER",
    "ISSUED_AT_FORMAT",
    "REVOKED",
    "TEMPLATE_DEFAULT",
    "BadgeRequest",
    "CredlyClient",
    "CredlyHook",
    "Expiry",
    "IssueResult",
    "IssuedBadge",
    "classify_response",
    "classify_transport_error",
    "encode_filter",
    "format_issued_at",
    "parse_retry_after",
    "safe_detail",
    "shared_session",
    "template_expiry_days",
]


def __getattr__(name: str) -> Any:
    # The hook imports Airflow's Task SDK: only on demand, so the client loads without it.
    if name == "CredlyHook":
        from badging.credly.hook import CredlyHook

        return CredlyHook
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
