"""Response targets: how quickly support must answer, per tier and priority."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tickets.choices import Priority


class Clock(models.TextChoices):
    CONTINUOUS = "24x7", _("24x7")
    BUSINESS = "business", _("Business hours")


class TargetUnit(models.TextChoices):
    MINUTES = "m", _("minutes")
    HOURS = "h", _("hours")
    BUSINESS_DAYS = "bd", _("business days")
    END_OF_BUSINESS_DAY = "eod", _("end of the business day")


class ResponseTarget(models.Model):
    """The maximum time to a response for one tier and priority.

    A target that is not guaranteed is best effort: it is shown and used to order the
    queue, but never reported as a breach.
    """

    tier = models.ForeignKey(
        "tickets.SupportTier", on_delete=models.CASCADE, related_name="response_targets"
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    amount = models.PositiveIntegerField(default=1)
    unit = models.CharField(max_length=3, choices=TargetUnit.choices)
    clock = models.CharField(max_length=10, choices=Clock.choices)
    guaranteed = models.BooleanField(default=True)

    class Meta:
        ordering = ("tier", "priority")
        constraints = [
            models.UniqueConstraint(
                fields=["tier", "priority"], name="one_target_per_tier_priority"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="target_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tier} P{self.priority}: {self.label}"

    @property
    def label(self) -> str:
        """Say the target the way the policy does ('2 hours', '1 business day')."""
        if self.unit == TargetUnit.END_OF_BUSINESS_DAY:
            text = str(_("Same business day"))
        elif self.unit == TargetUnit.MINUTES:
            text = ngettext("%(n)d minute", "%(n)d minutes", self.amount) % {
                "n": self.amount
            }
        elif self.unit == TargetUnit.HOURS:
            text = ngettext("%(n)d hour", "%(n)d hours", self.amount) % {
                "n": self.amount
            }
        else:
            text = ngettext(
                "%(n)d business day", "%(n)d business days", self.amount
            ) % {"n": self.amount}
        if not self.guaranteed:
            return str(_("%(target)s (best effort, not guaranteed)")) % {"target": text}
        return text
