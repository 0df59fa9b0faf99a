"""Seed the default business calendar: Monday-Friday 09:00-17:00 UTC, no holidays.

The contract's support calendar; organisations without their own use it.
"""

import datetime

from django.db import migrations

NAME = "Support hours (default)"


def seed(apps, schema_editor):
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    WorkingInterval = apps.get_model("sla", "WorkingInterval")
    if BusinessCalendar.objects.filter(is_default=True).exists():
        return
    calendar, _created = BusinessCalendar.objects.get_or_create(
        name=NAME, defaults={"timezone": "UTC", "is_default": True}
    )
    if not calendar.is_default:
        calendar.is_default = True
        calendar.save(update_fields=["is_default"])
    if not WorkingInterval.objects.filter(calendar=calendar).exists():
        WorkingInterval.objects.bulk_create(
            WorkingInterval(
                calendar=calendar,
                weekday=weekday,
                start=datetime.time(9),
                end=datetime.time(17),
            )
            for weekday in range(5)
        )


class Migration(migrations.Migration):
    dependencies = [("sla", "0003_clocks_calendars")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
