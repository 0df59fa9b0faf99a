import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tickets", "0003_email_threading"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="FailingAddress",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("address", models.EmailField(max_length=254, unique=True)),
                ("reason", models.TextField(blank=True)),
                ("bounced_at", models.DateTimeField()),
            ],
            options={"ordering": ("-bounced_at",)},
        ),
        migrations.CreateModel(
            name="EmailDelivery",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("event", models.CharField(choices=[("ticket_created", "Ticket created"), ("support_replied", "Support replied"), ("customer_replied", "Customer replied"), ("priority_changed", "Priority changed"), ("ticket_solved", "Ticket solved"), ("ticket_closed", "Ticket closed"), ("sla_at_risk", "SLA at risk"), ("sla_breached", "SLA breached")], max_length=40)),
                ("event_key", models.CharField(max_length=120)),
                ("to_address", models.EmailField(max_length=254)),
                ("context", models.JSONField(blank=True, default=dict)),
                ("status", models.CharField(choices=[("pending", "Pending"), ("sending", "Sending"), ("sent", "Sent"), ("failed", "Failed"), ("suppressed", "Suppressed")], default="pending", max_length=12)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField()),
                ("claimed_at", models.DateTimeField(blank=True, null=True)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("message_id", models.CharField(blank=True, db_index=True, max_length=255)),
                ("last_error", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("recipient", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("ticket", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="email_deliveries", to="tickets.ticket")),
            ],
            options={
                "verbose_name_plural": "email deliveries",
                "ordering": ("-created_at",),
                "indexes": [models.Index(condition=models.Q(("status__in", ["pending", "sending"])), fields=["next_attempt_at"], name="delivery_due")],
                "constraints": [models.UniqueConstraint(fields=("event_key", "recipient"), name="one_delivery_per_event_recipient")],
            },
        ),
        migrations.CreateModel(
            name="InboundMessage",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("raw", models.BinaryField()),
                ("raw_sha256", models.CharField(db_index=True, max_length=64)),
                ("size", models.PositiveIntegerField()),
                ("transport", models.CharField(max_length=30)),
                ("envelope_from", models.CharField(blank=True, max_length=320)),
                ("envelope_to", models.JSONField(blank=True, default=list)),
                ("received_at", models.DateTimeField(auto_now_add=True)),
                ("status", models.CharField(choices=[("received", "Received"), ("processed", "Processed"), ("ignored", "Ignored (auto-reply, bounce or duplicate)"), ("quarantined", "Quarantined"), ("parked", "Parked after repeated failures")], default="received", max_length=12)),
                ("reason", models.TextField(blank=True)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("message_id", models.CharField(blank=True, max_length=998)),
                ("from_address", models.CharField(blank=True, max_length=320)),
                ("subject", models.CharField(blank=True, max_length=998)),
                ("processed_at", models.DateTimeField(blank=True, null=True)),
                ("comment", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="tickets.comment")),
                ("ticket", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="tickets.ticket")),
            ],
            options={
                "ordering": ("-received_at",),
                "indexes": [
                    models.Index(condition=models.Q(("status", "received")), fields=["received_at"], name="inbound_unprocessed"),
                    models.Index(fields=["from_address", "received_at"], name="inbound_sender"),
                ],
            },
        ),
    ]
