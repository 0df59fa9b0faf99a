"""The REST API's shared plumbing: errors, strict input, paging, parsing, throttles.

Business errors (``scalr_support.common.errors``) are mapped to HTTP here, once, so
every endpoint reports a refused rule the same way:

- ``ValidationFailed`` -> 400, ``{"<field>": ["message"]}`` when the service named a
  field, else ``{"detail": "message", "code": "invalid"}``;
- ``NotAllowed`` -> 403, ``InvalidTransition`` -> 409, with ``detail`` and ``code``;
- ``NotFound`` (and ``Http404``) -> 404; malformed bodies, oversize uploads and
  other client mistakes -> 4xx. Nothing a client sends should reach Django's 500 page.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import (
    ValidationError as DjangoValidationError,
)
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import exceptions, parsers, serializers, status, throttling
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.settings import api_settings

from .errors import (
    InvalidTransition,
    NotAllowed,
    NotFound,
    ServiceError,
    ValidationFailed,
)

if TYPE_CHECKING:
    from rest_framework.response import Response

# --- errors -----------------------------------------------------------------------


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The object is not in a state that allows this change.")
    default_code = "invalid_transition"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request is too large.")
    default_code = "too_large"


def _as_api_exception(exc: Exception) -> Exception:
    """Translate business and Django errors into DRF's exceptions."""
    if isinstance(exc, ServiceError):
        if isinstance(exc, NotAllowed):
            return exceptions.PermissionDenied(exc.message, code="not_allowed")
        if isinstance(exc, InvalidTransition):
            return Conflict(exc.message)
        if isinstance(exc, ValidationFailed) and exc.field:
            return exceptions.ValidationError({exc.field: [exc.message]})
        return exceptions.ValidationError(
            {"detail": exc.message, "code": "invalid"}, code="invalid"
        )
    if isinstance(exc, NotFound):
        # The same answer as Django's Http404 gets from DRF: the message, not_found.
        return exceptions.NotFound(*exc.args)
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, SuspiciousOperation):
        # Too many fields or files, a malformed multipart body, and the like.
        return exceptions.ParseError(_("The request could not be read."))
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(exc.message_dict)
        return exceptions.ValidationError({"detail": " ".join(exc.messages)})
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> "Response | None":
    """DRF's handler, with business errors mapped and ``code`` beside ``detail``."""
    # Imported here: this module is loaded while rest_framework.views is defined.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(_as_api_exception(exc), context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, Mapping) and set(data) == {"detail"}:
        detail = data["detail"]
        code = getattr(detail, "code", None) or "error"
        response.data = {"detail": str(detail), "code": code}
    return response


# --- input -------------------------------------------------------------------------


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses keys it does not declare.

    Silently ignoring a key like ``organization`` or ``assignee`` would let a
    client believe it set something it did not; refusing names the field instead.
    ``staff_only`` lists keys that support staff may send on the same endpoint.
    """

    staff_only: tuple[str, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise exceptions.ValidationError(
                    {
                        key: [
                            _("Only Scalr support can set this field.")
                            if key in self.staff_only
                            else _("This field cannot be set here.")
                        ]
                        for key in unknown
                    }
                )
        return super().to_internal_value(data)


def bounded_id_field(**kwargs: Any) -> serializers.IntegerField:
    """A positive database id; out-of-range numbers are a 400, not a DB error."""
    return serializers.IntegerField(min_value=1, max_value=2**63 - 1, **kwargs)


class SafeJSONParser(parsers.JSONParser):
    """JSON, with absurdly nested documents refused as a parse error, not a 500."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                _("JSON parse error - nested too deeply.")
            ) from None


# --- paging ------------------------------------------------------------------------


class TimeCursorPagination(CursorPagination):
    """Cursor paging over a datetime ordering, 50 a page (``page_size`` up to 100).

    DRF trusts the position inside a cursor and hands it to the database; a forged
    cursor would then be a 500. Here it must parse as a datetime, else 400.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
    invalid_cursor_message = _("Invalid cursor.")  # type: ignore[assignment]

    def decode_cursor(self, request: Request) -> Any:
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}
            ) from None
        if cursor is not None and cursor.position is not None:
            try:
                valid = parse_datetime(str(cursor.position)) is not None
            except ValueError:
                valid = False
            if not valid:
                raise exceptions.ValidationError(
                    {self.cursor_query_param: [self.invalid_cursor_message]}
                )
        return cursor

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paged = super().get_paginated_response_schema(schema)
        paged["required"] = ["next", "previous", "results"]
        return paged


# --- throttles ---------------------------------------------------------------------


class _LiveRateMixin:
    """Read the rate from settings at request time (DRF caches it at import)."""

    scope: str | None

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return None if rate is None else str(rate)


class AnonBurstThrottle(_LiveRateMixin, throttling.AnonRateThrottle):
    """Requests without credentials, per client address."""


class UserBurstThrottle(_LiveRateMixin, throttling.UserRateThrottle):
    """Requests per signed-in user or token owner (per address when anonymous)."""


# --- documentation helpers ---------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The body of every error that is not about particular fields."""

    detail = serializers.CharField(help_text=_("What went wrong, for a person."))
    code = serializers.CharField(help_text=_("A stable machine-readable code."))


FIELD_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Validation errors by field: each key is an input field (or "
        "`non_field_errors`), each value the list of messages. List fields report "
        "errors by item index."
    ),
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object"},
        ]
    },
}

_ERROR_EXAMPLES: dict[int, tuple[str, list[OpenApiExample]]] = {
    400: (
        "The input is not acceptable: errors by field, or a `detail` and `code`.",
        [
            OpenApiExample(
                "Field errors",
                value={"subject": ["This field is required."]},
                status_codes=["400"],
                response_only=True,
            ),
            OpenApiExample(
                "Unknown or forbidden field",
                value={"organization": ["This field cannot be set here."]},
                status_codes=["400"],
                response_only=True,
            ),
            OpenApiExample(
                "Malformed body",
                value={
                    "detail": "JSON parse error - Expecting value: line 1 column 1",
                    "code": "parse_error",
                },
                status_codes=["400"],
                response_only=True,
            ),
        ],
    ),
    401: (
        "No valid credentials: send `Authorization: Token <key>` or sign in.",
        [
            OpenApiExample(
                "Not authenticated",
                value={
                    "detail": "Authentication credentials were not provided.",
                    "code": "not_authenticated",
                },
                status_codes=["401"],
                response_only=True,
            ),
            OpenApiExample(
                "Bad token",
                value={
                    "detail": "Invalid or revoked API token.",
                    "code": "authentication_failed",
                },
                status_codes=["401"],
                response_only=True,
            ),
        ],
    ),
    403: (
        "Signed in, but this action is not allowed for you (or the CSRF token of a "
        "browser session is missing).",
        [
            OpenApiExample(
                "Not allowed",
                value={
                    "detail": "Only your organisation's technical contacts can open "
                    "tickets.",
                    "code": "not_allowed",
                },
                status_codes=["403"],
                response_only=True,
            )
        ],
    ),
    404: (
        "No such object, or one you may not see (another organisation's ticket "
        "answers 404, never 403).",
        [
            OpenApiExample(
                "Not found",
                value={"detail": "No such ticket.", "code": "not_found"},
                status_codes=["404"],
                response_only=True,
            )
        ],
    ),
    409: (
        "The object's state does not allow the change.",
        [
            OpenApiExample(
                "Closed ticket",
                value={
                    "detail": "This ticket is closed. Open a new ticket to continue.",
                    "code": "invalid_transition",
                },
                status_codes=["409"],
                response_only=True,
            )
        ],
    ),
    413: (
        "The request body is larger than the server accepts.",
        [
            OpenApiExample(
                "Too large",
                value={"detail": "The request is too large.", "code": "too_large"},
                status_codes=["413"],
                response_only=True,
            )
        ],
    ),
    415: (
        "The body's media type is not one this endpoint reads.",
        [
            OpenApiExample(
                "Unsupported media type",
                value={
                    "detail": 'Unsupported media type "text/plain" in request.',
                    "code": "unsupported_media_type",
                },
                status_codes=["415"],
                response_only=True,
            )
        ],
    ),
    429: (
        "Too many requests; retry after the number of seconds in `Retry-After`.",
        [
            OpenApiExample(
                "Throttled",
                value={
                    "detail": "Request was throttled. Expected available in 12 "
                    "seconds.",
                    "code": "throttled",
                },
                status_codes=["429"],
                response_only=True,
            )
        ],
    ),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """OpenAPI responses, with examples, for the given error status codes."""
    responses = {}
    for code in codes:
        description, examples = _ERROR_EXAMPLES[code]
        if code == 400:
            schema: Any = {
                "anyOf": [
                    {"$ref": "#/components/schemas/Error"},
                    FIELD_ERRORS_SCHEMA,
                ]
            }
        else:
            schema = ErrorSerializer
        responses[code] = OpenApiResponse(
            response=schema, description=description, examples=examples
        )
    return responses


READ_ERRORS = (401, 429)
WRITE_ERRORS = (400, 401, 403, 413, 415, 429)
