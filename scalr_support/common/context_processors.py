"""Template context shared by every page."""

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {
        "SLACK_COMMUNITY_INVITE_URL": settings.SLACK_COMMUNITY_INVITE_URL,
        "contact": getattr(request, "contact", None),
    }
