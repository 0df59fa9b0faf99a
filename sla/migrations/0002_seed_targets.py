"""Seed the policy's response-time table.

Business: P0 2h, P1 4h, P2 12h on a 24x7 clock; P3 1 and P4 2 business days.
Free: best effort at every priority, the end of the business day of arrival.
"""

from django.db import migrations

BUSINESS = [(0, 2, "h", "24x7"), (1, 4, "h", "24x7"), (2, 12, "h", "24x7"),
            (3, 1, "bd", "business"), (4, 2, "bd", "business")]  # fmt: skip


def seed(apps, schema_editor):
    SupportTier = apps.get_model("tickets", "SupportTier")
    ResponseTarget = apps.get_model("sla", "ResponseTarget")
    business = SupportTier.objects.get(slug="business")
    free = SupportTier.objects.get(slug="free")
    for priority, amount, unit, clock in BUSINESS:
        ResponseTarget.objects.update_or_create(
            tier=business,
            priority=priority,
            defaults={"amount": amount, "unit": unit, "clock": clock, "guaranteed": True},
        )
    for priority in range(5):
        ResponseTarget.objects.update_or_create(
            tier=free,
            priority=priority,
            defaults={"amount": 1, "unit": "eod", "clock": "business", "guaranteed": False},
        )


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial"), ("tickets", "0002_seed_tiers")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
