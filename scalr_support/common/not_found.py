"""The portal's one mapping of the domain ``NotFound`` to Django's 404."""

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.http import Http404

from .errors import NotFound

P = ParamSpec("P")
R = TypeVar("R")


def not_found_as_404(view: Callable[P, R]) -> Callable[P, R]:
    """Answer a selector's ``NotFound`` with the 404 page, as ``Http404`` would."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return view(*args, **kwargs)
        except NotFound as exc:
            raise Http404(*exc.args) from exc

    return wrapped
