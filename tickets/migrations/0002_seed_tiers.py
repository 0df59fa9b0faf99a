"""Seed the policy's two support tiers and the ticket number counter."""

from django.db import migrations

TIERS = [
    {
        "slug": "free",
        "name": "Free",
        "position": 0,
        "response_summary": "Best efforts",
        "guaranteed_response": False,
        "realtime_sessions": False,
        "realtime_max_priority": 3,
        "community_slack": False,
    },
    {
        "slug": "business",
        "name": "Business",
        "position": 1,
        "response_summary": "Priority based - 24x7",
        "guaranteed_response": True,
        "realtime_sessions": True,
        "realtime_max_priority": 3,
        "community_slack": True,
    },
]


def seed(apps, schema_editor):
    SupportTier = apps.get_model("tickets", "SupportTier")
    TicketCounter = apps.get_model("tickets", "TicketCounter")
    for tier in TIERS:
        SupportTier.objects.update_or_create(slug=tier["slug"], defaults=tier)
    TicketCounter.objects.get_or_create(pk=1, defaults={"value": 0})


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
