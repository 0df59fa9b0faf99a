"""Seed the policy's schedule: every Tuesday and Thursday, 07:00 UTC, 30 minutes.

Managers change the time and timezone in the admin; windows are materialised from
the schedule by the hourly task (and by ``seed_demo``).
"""

import datetime

from django.db import migrations


def seed(apps, schema_editor):
    MaintenanceSchedule = apps.get_model("maintenance", "MaintenanceSchedule")
    if not MaintenanceSchedule.objects.exists():
        MaintenanceSchedule.objects.create(
            name="Regular maintenance",
            weekdays="1,3",  # Tuesday, Thursday (Monday is 0)
            start_time=datetime.time(7, 0),
            timezone="UTC",
            duration_minutes=30,
            is_active=True,
        )


class Migration(migrations.Migration):
    dependencies = [("maintenance", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
