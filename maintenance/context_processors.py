"""The maintenance banner, on every page that extends base.html."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import banner_for_now


def maintenance_banner(request: HttpRequest) -> dict[str, object]:
    """Lazy, so pages that never show the banner never look it up."""
    return {"maintenance_banner": SimpleLazyObject(banner_for_now)}
