import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_seed_tiers")]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="email_message_id",
            field=models.CharField(
                blank=True,
                help_text="Message-ID of the email this comment came from.",
                max_length=998,
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="email_message_id",
            field=models.CharField(
                blank=True,
                help_text="Message-ID of the email that opened this ticket.",
                max_length=998,
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="follow_up_of",
            field=models.ForeignKey(
                blank=True,
                help_text="The closed ticket this one continues.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="follow_ups",
                to="tickets.ticket",
            ),
        ),
        migrations.AddConstraint(
            model_name="comment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("email_message_id", ""), _negated=True),
                fields=("email_message_id",),
                name="one_comment_per_email",
            ),
        ),
        migrations.AddConstraint(
            model_name="ticket",
            constraint=models.UniqueConstraint(
                condition=models.Q(("email_message_id", ""), _negated=True),
                fields=("email_message_id",),
                name="one_ticket_per_email",
            ),
        ),
    ]
