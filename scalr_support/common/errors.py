"""One exception hierarchy for business-rule refusals.

Services raise these; the portal turns them into form errors and the API into DRF's
JSON error shape, so a rule is written once and reported the same way everywhere.
"""

from django.core.exceptions import PermissionDenied


class ServiceError(Exception):
    """A request that breaks a business rule; ``message`` is shown to the user."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(ServiceError):
    """The input is not acceptable (an oversize file, an empty reason)."""


class NotAllowed(ServiceError, PermissionDenied):
    """The user may see the object but not do this to it."""


class InvalidTransition(ServiceError):
    """The object is not in a state that allows the change."""


class NotFound(Exception):
    """No such object, or one the user may not see (never "forbidden": 404).

    Raised by selectors, which know nothing of HTTP: the portal's views map it
    to Django's 404 page (``not_found.not_found_as_404``), the API's exception
    handler to its JSON 404, and the email channel treats the mail as unknown.
    ``args[0]`` is the message Django's debug page and the API show.
    """
