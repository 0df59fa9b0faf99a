"""Request types for type checkers."""

from django.http import HttpRequest

from .models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request that reached a ``login_required`` view: its user is an account.

    Django hands such views a plain ``HttpRequest``; this subclass exists so that
    the type checker knows ``request.user`` cannot be anonymous there
    (django-stubs' recommended pattern). Nothing instantiates it.
    """

    user: User
