# Completion emails, per-user opt-out and per-cloud webhooks.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0007_faster_default_request_cap"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="cloud",
            name="webhook_url",
            field=models.URLField(
                blank=True,
                help_text=(
                    "Receives a signed JSON POST when a task of this cloud finishes or goes stale."
                ),
                max_length=500,
            ),
        ),
        migrations.AddField(
            model_name="cloud",
            name="webhook_secret_encrypted",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.CreateModel(
            name="Profile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "email_on_completion",
                    models.BooleanField(
                        default=True,
                        help_text="Email me when a task I submitted finishes or is flagged stale.",
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="imagetasks_profile",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="Notification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "event",
                    models.CharField(
                        choices=[("outcome", "Finished"), ("stale", "Flagged stale")],
                        max_length=16,
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[("email", "Email"), ("webhook", "Webhook")], max_length=16
                    ),
                ),
                ("target", models.CharField(max_length=500)),
                (
                    "status",
                    models.CharField(
                        choices=[("pending", "Pending"), ("sent", "Sent"), ("failed", "Failed")],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                (
                    "claim",
                    models.PositiveBigIntegerField(
                        default=0, help_text="Fencing token of the holder."
                    ),
                ),
                ("claimed_until", models.DateTimeField(blank=True, null=True)),
                ("next_attempt_at", models.DateTimeField()),
                ("last_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "snapshot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notifications",
                        to="dashboard.tasksnapshot",
                    ),
                ),
                (
                    "task",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notifications",
                        to="dashboard.imagetask",
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("status", "pending")),
                        fields=["next_attempt_at"],
                        name="notification_due",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("snapshot", "event", "channel"), name="unique_notification"
                    )
                ],
            },
        ),
    ]
