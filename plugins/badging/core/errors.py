"""The badging package's one typed error tree: callers branch on the class, never on the text."""

from __future__ import annotations

from typing import ClassVar


class BadgingError(Exception):
    """Base of every error the badging package raises on purpose."""


class ConfigurationError(BadgingError):
    """A connection or setting is missing or malformed; the message never holds its secret value."""


# --- Credly -----------------------------------------------------------------------------------


class CredlyError(BadgingError):
    """Credly refused or failed a call.

    Attributes:
        status: the HTTP status, or None when no response arrived.
        badge_key: a non-PII surrogate of the badge concerned (e.g. ``"issuance#123"``), or None.
        detail: the short, PII-free description the message was built from.
        retryable: class attribute; True when calling again later may succeed.
        maybe_applied: an earlier attempt of the same write may have landed.
    """

    retryable: ClassVar[bool] = False

    def __init__(
        self, detail: str, *, status: int | None = None, badge_key: str | None = None
    ) -> None:
        self.detail = detail
        self.status = status
        self.badge_key = badge_key
        # Set by the transport when an earlier attempt of the same write lost its response:
        # Credly may hold the badge, so nobody may POST it again without looking first.
        self.maybe_applied = False
        # args holds only the detail so that default pickling (cls(*args), then __dict__)
        # rebuilds the error intact; Airflow and thread pools pickle exceptions.
        super().__init__(detail)

    def __str__(self) -> str:
        parts = [self.detail]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.badge_key:
            parts.append(f"badge {self.badge_key}")
        return " | ".join(parts)


class CredlyAuthError(CredlyError):
    """401/403: the token is wrong, expired or read-only. Stop the batch: retrying cannot help."""


class CredlyInvalidRequest(CredlyError):
    """400, 404 or a 422 other than a duplicate: permanent for this badge, not for the batch."""


class CredlyUnresolvedDuplicate(CredlyInvalidRequest):
    """Credly holds a badge of this template for the recipient that is not (surely) this
    earner's: another earner id, a revoked badge, or a shared email. Permanent for this badge."""


class CredlyDuplicateBadge(CredlyError):
    """422 "already has this badge". The client resolves it to the existing badge itself."""


class CredlyRetryableError(CredlyError):
    """A failure that may clear up: back off and try again (the client already did, in-process)."""

    retryable: ClassVar[bool] = True


class CredlyThrottled(CredlyRetryableError):
    """429: Credly asked us to slow down; the request was not processed.

    Attributes:
        retry_after: seconds Credly asked us to wait, or None if it did not say.
    """

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = 429,
        badge_key: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(detail, status=status, badge_key=badge_key)


class CredlyTransient(CredlyRetryableError):
    """5xx, a dropped connection or a timeout on a call that is safe to repeat."""


class CredlyUnknownOutcome(CredlyRetryableError):
    """A write whose response was lost: Credly may have applied it. Look it up before repeating."""


# --- the pipeline -----------------------------------------------------------------------------


class DataQualityError(BadgingError):
    """Too many rows failed validation (a broken feed), or the suite itself could not run."""


class BatchIncomplete(BadgingError):
    """An issue batch ended with badges still retryable; Airflow's retry of the task takes them."""


class BatchRefused(BadgingError):
    """Credly refused several badges of one template (or the organization) the same way: the
    fault is in the template or the connection, not in the badges. Fix it, then clear."""


class ClaimLost(BadgingError):
    """This attempt's claim on a badge was taken over (its lease passed): it must not call
    Credly for it any more."""


class ReportNotWritten(BadgingError):
    """The correction report or Data Docs could not be written (folder, permissions, upload)."""


class RunNeedsAttention(BadgingError):
    """The run did its bookkeeping but a person must act (failed or pending badges, bad data)."""


def error_label(error: Exception) -> str:
    """What the ledger and audit keep of an error: its class and HTTP status, never text."""
    status = getattr(error, "status", None)
    return f"{type(error).__name__}" + (f" (HTTP {status})" if status else "")
