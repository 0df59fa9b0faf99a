"""The fixed vocabularies of a ticket, with the policy's own wording."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Priority(models.IntegerChoices):
    BLOCKER = 0, _("P0 Blocker")
    CRITICAL = 1, _("P1 Critical")
    MAJOR = 2, _("P2 Major")
    MINOR = 3, _("P3 Minor")
    TRIVIAL = 4, _("P4 Trivial")


PRIORITY_DESCRIPTIONS: dict[int, str] = {
    Priority.BLOCKER: _(
        "Production use of the Software is stopped or so severely impacted that it "
        "cannot continue to operate, and the operation is mission critical to the "
        "business."
    ),
    Priority.CRITICAL: _(
        "Experiencing a significant disruption in business critical usage of the "
        "Software. Important features are unavailable with no acceptable workaround; "
        "however, operations can continue in a restricted fashion."
    ),
    Priority.MAJOR: _(
        "A major fault with the software causing non-production usage to be severely "
        "impacted. Workarounds may exist but are time consuming/costly."
    ),
    Priority.MINOR: _(
        "A minor fault with the software / service. The impact is an inconvenience, "
        "which may require a workaround to restore functionality."
    ),
    Priority.TRIVIAL: _(
        "Requesting information, a product enhancement, or other clarification "
        "regarding the Software."
    ),
}


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


# Statuses in which the ticket still needs something from support or the customer.
ACTIVE_STATUSES = frozenset(
    {Status.NEW, Status.OPEN, Status.WAITING_ON_CUSTOMER, Status.ON_HOLD}
)


class Category(models.TextChoices):
    BUG = "bug", _("Bug")
    QUESTION = "question", _("Question")
    ENHANCEMENT = "enhancement", _("Enhancement request")
    THIRD_PARTY = "third_party", _("Third-party: Terraform / OPA")


class Deployment(models.TextChoices):
    SAAS = "saas", _("scalr.io (SaaS)")
    ON_PREM = "on_prem", _("On-prem")


class CommentSource(models.TextChoices):
    PORTAL = "portal", _("Portal")
    EMAIL = "email", _("Email")
    ADMIN = "admin", _("Admin")
    API = "api", _("API")
