"""CredlyHook: turns the ``credly_api`` Airflow connection into a CredlyClient."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from airflow.sdk import BaseHook

from badging.core.errors import ConfigurationError, CredlyError
from badging.credly.client import CredlyClient


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _as_float(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"credly_api extra {name!r} must be a number") from None


def base_url_from(conn: Any) -> str:
    """Build the API base URL from an Airflow Connection's host, schema and port.

    Accepts the forms people actually enter: host ``https://api.credly.com/v1``; host
    ``api.credly.com/v1`` with schema ``https`` (the HTTP-provider convention); and the URI
    form ``http://:TOKEN@localhost:8080/v1``, where Airflow puts ``v1`` in schema.

    Raises:
        ConfigurationError: if the connection has no host.
    """
    host = (conn.host or "").strip()
    if not host:
        raise ConfigurationError("credly_api connection has no host (the API base URL)")
    schema = (conn.schema or "").strip().strip("/")
    if "://" in host:
        parts = urlsplit(host)
        scheme, netloc, path = parts.scheme, parts.netloc, parts.path
    else:
        netloc, _, rest = host.partition("/")
        path = "/" + rest if rest else ""
        scheme = schema if schema in ("http", "https") else "https"
    if schema and schema not in ("http", "https") and not path.strip("/"):
        path = "/" + schema
    if conn.port and ":" not in netloc.rsplit("@", 1)[-1].strip("[]"):
        netloc = f"{netloc}:{conn.port}"
    # Credly has only ever had /v1; a host entered without it means the API root.
    path = path.rstrip("/") or "/v1"
    return urlunsplit((scheme, netloc, path, "", ""))


class CredlyHook(BaseHook):
    """Reads a Credly connection and builds the client for its organization.

    The connection's host is the API base URL (``/v1`` included), its password the token (so
    Airflow masks it in logs), and its extra holds ``organization_id`` and
    ``earner_id_secret`` plus optional ``rate_limit_per_s``, ``rate_limit_burst``,
    ``locale``, ``suppress_badge_notification_email``, ``suppress_revoke_notification_email``,
    ``connect_timeout``, ``read_timeout``
    (the form fields declared in ``badging.airflow.provider_info``). Connections of type ``http``
    with the same fields, as older deployments have them, are read the same way.

    Args:
        credly_conn_id: the Airflow connection id.
        **client_options: CredlyClient keyword arguments that win over the connection.
    """

    conn_name_attr = "credly_conn_id"
    default_conn_name = "credly_api"
    conn_type = "credly"
    hook_name = "Credly"

    def __init__(self, credly_conn_id: str = default_conn_name, **client_options: Any) -> None:
        super().__init__()
        self.credly_conn_id = credly_conn_id
        self.client_options = client_options

    def _extra(self) -> tuple[Any, dict[str, Any]]:
        conn = self.get_connection(self.credly_conn_id)
        return conn, conn.extra_dejson or {}

    def get_conn(self) -> CredlyClient:
        """Build the client.

        Returns:
            A CredlyClient for the connection's organization.

        Raises:
            ConfigurationError: if the host, token or organization id is missing or malformed.
        """
        conn, extra = self._extra()
        if not conn.password and conn.login:
            raise ConfigurationError(
                f"connection {self.credly_conn_id!r}: put the Credly token in the password "
                "field (Airflow masks passwords, not logins)"
            )
        options: dict[str, Any] = {
            "locale": extra.get("locale") or None,
            "suppress_notification": _as_bool(
                extra.get("suppress_badge_notification_email", False)
            ),
            "rate_limit_per_s": _as_float(extra.get("rate_limit_per_s"), "rate_limit_per_s"),
        }
        burst = _as_float(extra.get("rate_limit_burst"), "rate_limit_burst")
        if burst is not None:
            options["rate_limit_burst"] = int(burst)
        for name in ("connect_timeout", "read_timeout"):
            value = _as_float(extra.get(name), name)
            if value is not None:
                options[name] = value
        options.update(self.client_options)
        return CredlyClient(
            base_url_from(conn),
            conn.password or "",
            str(extra.get("organization_id") or ""),
            **options,
        )

    def suppresses_revoke_notification(self) -> bool:
        """Whether the connection asks Credly not to email earners about revocations."""
        return _as_bool(self._extra()[1].get("suppress_revoke_notification_email", False))

    def earner_id_secret(self) -> str:
        """Return the key that turns student ids into the issuer_earner_id sent to Credly.

        Raises:
            ConfigurationError: if the connection's extra has no ``earner_id_secret``.
        """
        secret = self._extra()[1].get("earner_id_secret")
        if not secret:
            raise ConfigurationError(
                f"connection {self.credly_conn_id!r} needs extra.earner_id_secret: the key that "
                "turns student ids into the issuer_earner_id sent to Credly (set once, never "
                "change it)")
        return secret

    def test_connection(self) -> tuple[bool, str]:
        """The UI's Test button: one cheap read of the organization with this token."""
        try:
            organization = self.get_conn().get_organization()
        except (ConfigurationError, CredlyError) as error:
            return False, str(error)
        return True, f"Connected to Credly organization {organization.get('name') or ''}".strip()
