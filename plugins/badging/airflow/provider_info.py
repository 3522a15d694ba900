"""Provider metadata (entry point apache_airflow_provider): the UI's "Credly" connection form."""

# Airflow loads this at start-up in every component, so it imports nothing and only describes.
# Since Airflow 3.2 the connection form is built from this metadata, not from hook methods.

_NUMBER = {"type": ["number", "null"]}

CREDLY_CONN_FIELDS = {
    "organization_id": {
        "label": "Organization ID",
        "description": "The Credly organization's UUID (required).",
        "schema": {"type": ["string", "null"]},
    },
    "earner_id_secret": {
        "label": "Earner id secret",
        "description": "Key that turns student ids into the issuer_earner_id sent to Credly "
        "(required). Set once, never change it: Credly matches earners by it.",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "rate_limit_per_s": {
        "label": "Rate limit (requests/s)",
        "description": "Ceiling per task process: Credly's allowance ÷ credly_api pool slots. "
        "Empty: no limit.",
        "schema": _NUMBER,
    },
    "rate_limit_burst": {
        "label": "Rate limit burst",
        "description": "Requests that may go at once after idling. Empty: one second's worth.",
        "schema": {"type": ["integer", "null"]},
    },
    "locale": {
        "label": "Locale",
        "description": "Language of Credly's emails to earners, e.g. en. Empty: Credly's default.",
        "schema": {"type": ["string", "null"]},
    },
    "suppress_badge_notification_email": {
        "label": "Suppress badge notification email",
        "description": "Ask Credly not to email earners about new badges.",
        "schema": {"type": ["boolean", "null"], "default": False},
    },
    "suppress_revoke_notification_email": {
        "label": "Suppress revocation notification email",
        "description": "Ask Credly not to email earners whose badge the pipeline revokes "
                       "(the DAG param of the same name can also ask, run by run).",
        "schema": {"type": ["boolean", "null"], "default": False},
    },
    "connect_timeout": {
        "label": "Connect timeout (s)",
        "description": "Empty: 5 seconds.",
        "schema": _NUMBER,
    },
    "read_timeout": {
        "label": "Read timeout (s)",
        "description": "Empty: 30 seconds.",
        "schema": _NUMBER,
    },
    # The console's Templates page shows the token's age against the rotation period.
    "token_created_on": {
        "label": "Token created on",
        "description": "When this authorization token was created (YYYY-MM-DD).",
        "schema": {"type": ["string", "null"]},
    },
    "token_rotation_days": {
        "label": "Token rotation period (days)",
        "description": "The agency's rotation period for the token. Empty: none.",
        "schema": {"type": ["integer", "null"]},
    },
}


def get_provider_info() -> dict:
    """Describe this package to Airflow's ProvidersManager.

    Returns:
        Provider info in the shape of ``airflow/provider_info.schema.json``.
    """
    return {
        "package-name": "credly-badging",
        "name": "Credly badging",
        "description": "Credly badge issuance for Oklahoma CareerTech: the Credly connection type.",
        "connection-types": [
            {
                "connection-type": "credly",
                "hook-class-name": "badging.credly.hook.CredlyHook",
                "hook-name": "Credly",
                "conn-fields": CREDLY_CONN_FIELDS,
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "login", "port"],
                    "relabeling": {"host": "API base URL", "password": "Authorization token"},
                    "placeholders": {
                        "host": "https://api.credly.com/v1",
                        "password": "the organization's authorization token",
                    },
                },
            }
        ],
    }
