"""The fixed vocabularies of a ticket, with the policy's own wording."""

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Priority(models.IntegerChoices):
    BLOCKER = 0, _("P0 Blocker")
    CRITICAL = 1, _("P1 Critical")
    MAJOR = 2, _("P2 Major")
    MINOR = 3, _("P3 Minor")
    TRIVIAL = 4, _("P4 Trivial")


PRIORITY_DESCRIPTIONS: "dict[int, StrOrPromise]" = {
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


class ScopeExclusion(models.TextChoices):
    """What the policy's "No support for" list excludes, one choice per clause."""

    THIRD_PARTY_SOFTWARE = "third_party", _("Third-party software")
    MODIFIED_SOFTWARE = "modified", _("Altered, customised or modified software")
    NOT_GENERALLY_AVAILABLE = "not_ga", _("Software outside General Availability")
    UNSUPPORTED_PLATFORM = "platform", _("Unsupported hardware or operating system")
    UNSUPPORTED_CLOUD = "cloud", _("Unsupported cloud services")


# The policy's own words for each exclusion, shown to the customer.
SCOPE_REASONS: "dict[str, StrOrPromise]" = {
    ScopeExclusion.THIRD_PARTY_SOFTWARE: _(
        "Scalr has no obligation to support third-party software used in "
        "conjunction with the Software."
    ),
    ScopeExclusion.MODIFIED_SOFTWARE: _(
        "Scalr has no obligation to support altered, customized or modified "
        "software or any portion of the software incorporated with or into other "
        "software."
    ),
    ScopeExclusion.NOT_GENERALLY_AVAILABLE: _(
        "Scalr has no obligation to support Software that is outside the scope of "
        "General Availability as specified in the Scalr Support Lifecycle."
    ),
    ScopeExclusion.UNSUPPORTED_PLATFORM: _(
        "Scalr has no obligation to support software installed on any hardware "
        "and/or operating system that is not supported by Scalr."
    ),
    ScopeExclusion.UNSUPPORTED_CLOUD: _(
        "Scalr has no obligation to support the use of the Software in conjunction "
        "with unsupported cloud services. Scalr will provide technical support "
        "services to assist in troubleshooting the Software's interaction with "
        "supported cloud services; however, Scalr has no obligation to provide "
        "support for the cloud services themselves."
    ),
}

THIRD_PARTY_NOTE = _(
    "In respect of Terraform and Open Policy Agent, Scalr support will use best "
    "endeavors to provide advice and guidance on using this software with Scalr, "
    "including examples, best practices etc. However bugs/issues with Terraform and "
    "Open Policy Agent should be raised in the relevant support channels/communities."
)


class ConferencingProvider(models.TextChoices):
    ZOOM = "zoom", _("Zoom")
    CUSTOMER = "customer", _("The customer's own conferencing system")


class SessionStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed by support")
    COUNTER_PROPOSED = "counter", _("Customer proposed another time")
    ACCEPTED = "accepted", _("Accepted")


# Longest text a customer or an engineer may post (a description, a reply), in the
# API, the portal and the admin alike; and the longest reason for a new priority.
TEXT_MAX_LENGTH = 100_000
REASON_MAX_LENGTH = 5_000
