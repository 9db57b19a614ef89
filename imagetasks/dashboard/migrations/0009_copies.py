# Copying an image to another cloud or region.

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0008_notifications"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Copy",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("source_image_id", models.CharField(max_length=64)),
                ("source_image_name", models.CharField(blank=True, max_length=255)),
                ("source_checksum", models.CharField(blank=True, max_length=64)),
                ("target_name", models.CharField(max_length=255)),
                ("disk_format", models.CharField(default="vhd", max_length=16)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("exporting", "Exporting"),
                            ("transferring", "Transferring"),
                            ("importing", "Importing"),
                            ("cleaning", "Cleaning"),
                            ("succeeded", "Succeeded"),
                            ("failed", "Failed"),
                        ],
                        default="exporting",
                        max_length=16,
                    ),
                ),
                (
                    "error",
                    models.TextField(
                        blank=True, help_text="Why the copy failed; kept after clean-up."
                    ),
                ),
                ("staging_container", models.CharField(max_length=256)),
                ("staging_object", models.CharField(blank=True, max_length=1024)),
                ("object_etag", models.CharField(blank=True, max_length=64)),
                ("target_image_id", models.CharField(blank=True, max_length=64)),
                ("bytes_total", models.BigIntegerField(blank=True, null=True)),
                ("bytes_done", models.BigIntegerField(default=0)),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("next_step_at", models.DateTimeField(blank=True, null=True)),
                ("claimed_until", models.DateTimeField(blank=True, null=True)),
                ("lease_token", models.CharField(blank=True, max_length=32)),
                ("version", models.PositiveBigIntegerField(default=1)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now_add=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="image_copies",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "export_task",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="copy_exports",
                        to="dashboard.imagetask",
                    ),
                ),
                (
                    "import_task",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="copy_imports",
                        to="dashboard.imagetask",
                    ),
                ),
                (
                    "source_cloud",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="copies_out",
                        to="dashboard.cloud",
                    ),
                ),
                (
                    "target_cloud",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="copies_in",
                        to="dashboard.cloud",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "copies",
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="CopyEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("step", models.CharField(max_length=16)),
                ("status", models.CharField(max_length=16)),
                ("message", models.TextField(blank=True)),
                ("at", models.DateTimeField()),
                (
                    "copy",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="dashboard.copy",
                    ),
                ),
            ],
            options={
                "ordering": ["at", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="copy",
            index=models.Index(
                condition=models.Q(("next_step_at__isnull", False)),
                fields=["next_step_at"],
                name="copy_due_step",
            ),
        ),
        migrations.AddIndex(
            model_name="copy",
            index=models.Index(fields=["-created_at"], name="copy_recent"),
        ),
        migrations.AddIndex(
            model_name="copyevent",
            index=models.Index(fields=["copy", "at"], name="copy_event_timeline"),
        ),
    ]
