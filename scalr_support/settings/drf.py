"""Django REST framework and the OpenAPI schema."""

from scalr_support.env import env

REST_FRAMEWORK = {
    # A personal token (Authorization: Token ...) first, then the browser session,
    # whose unsafe requests DRF checks for the CSRF token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "scalr_support.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["scalr_support.common.api.SafeJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "scalr_support.common.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "scalr_support.common.api.AnonBurstThrottle",
        "scalr_support.common.api.UserBurstThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
    },
    # Clients are told apart by REMOTE_ADDR unless proxies in front are declared;
    # trusting X-Forwarded-For blindly would let anyone pick their own throttle key.
    "NUM_PROXIES": env.int("API_TRUSTED_PROXIES", default=0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Scalr Support Portal API",
    "DESCRIPTION": (
        "Tickets, comments, attachments and the support policy of Scalr Support.\n\n"
        "Authenticate with a personal API token, `Authorization: Token <key>` "
        "(create one on /accounts/tokens/), or the browser session (send the "
        "CSRF token with unsafe requests). Customers see their organisation's "
        "tickets only; another organisation's ticket answers 404. Errors are JSON: "
        '`{"detail": "...", "code": "..."}`, or `{"<field>": ["message"]}` for '
        "invalid input."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "tickets.choices.Status",
        "CategoryEnum": "tickets.choices.Category",
        "DeploymentEnum": "tickets.choices.Deployment",
        "PriorityEnum": "tickets.choices.Priority",
        "SourceEnum": "tickets.choices.CommentSource",
    },
    "TAGS": [
        {"name": "tickets", "description": "Open, follow and triage tickets."},
        {"name": "comments", "description": "The conversation on a ticket."},
        {"name": "attachments", "description": "Files on tickets and comments."},
        {"name": "policy", "description": "Support tiers, targets and priorities."},
        {"name": "meta", "description": "What this API version offers."},
    ],
}
