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
