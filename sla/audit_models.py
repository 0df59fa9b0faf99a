"""Who changed the SLA terms: response targets and business calendars.

Registered with the sla app by being imported at the end of ``models.py``. Written
by ``services.targets`` in the transaction of the change; read-only in the admin.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scalr_support.common.models import ActorAuditEntry


class SlaChangeAction(models.TextChoices):
    TARGET_SET = "target_set", _("Response target set")
    CALENDAR_CHANGED = "calendar_changed", _("Business calendar changed")


class SlaChangeEntry(ActorAuditEntry):
    """One change of a target or calendar: who, when, from what to what.

    ``actor`` is empty for the command line (``manage.py sla_target``).
    ``changes`` maps what changed to its ``[old, new]`` values as text;
    ``recomputed`` is how many running clocks got a new due time.
    """

    target = models.ForeignKey(
        "sla.ResponseTarget",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    calendar = models.ForeignKey(
        "sla.BusinessCalendar",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    action = models.CharField(max_length=20, choices=SlaChangeAction.choices)
    recomputed = models.PositiveIntegerField(default=0)

    class Meta(ActorAuditEntry.Meta):
        verbose_name_plural = _("SLA change entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(target__isnull=False) | Q(calendar__isnull=False),
                name="sla_change_names_what_changed",
            ),
        ]
