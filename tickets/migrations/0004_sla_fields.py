"""SLA fields: an organisation's business calendar, the ticket's denormalised clock."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sla', '0003_clocks_calendars'),
        ('tickets', '0003_email_threading'),
    ]

    operations = [
        migrations.AddField(
            model_name='organization',
            name='business_calendar',
            field=models.ForeignKey(blank=True, help_text='Working hours for business-hours targets; empty uses the default calendar. Applies to response clocks started after the change.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='sla.businesscalendar'),
        ),
        migrations.AddField(
            model_name='ticket',
            name='first_responded_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='ticket',
            name='first_response_due_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='ticket',
            name='sla_at_risk_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='ticket',
            name='sla_best_effort',
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name='ticket',
            name='sla_breached',
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name='ticket',
            name='sla_due_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(fields=['priority', 'sla_best_effort', 'sla_due_at'], name='ticket_sla_queue'),
        ),
    ]
