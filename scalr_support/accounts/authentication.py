"""``Authorization: Token <key>`` for the REST API."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .models import User
from .selectors import api_token_for_key
from .services import api_token_mark_used


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Authenticate a personal API token (see accounts.models.ApiToken).

    Any failure (malformed header, unknown, revoked or wrong key, inactive user)
    gives the same 401 message, so the answer does not tell which part was wrong.
    Requests without the header fall through to the next class (the session).
    """

    keyword = "Token"
    failure = _("Invalid or revoked API token.")

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(self.failure)
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(self.failure) from None
        token = api_token_for_key(key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(self.failure)
        api_token_mark_used(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describe the token scheme in the OpenAPI document."""

    target_class = "scalr_support.accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A personal API token, sent as `Authorization: Token sst_…`. "
                "Create one on /accounts/tokens/ or with "
                "`python manage.py create_api_token EMAIL`."
            ),
        }
