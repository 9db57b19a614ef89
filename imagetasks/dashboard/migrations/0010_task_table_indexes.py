# Indexes for the task table's orders: each ends on the primary key like the ORDER BY
# in tables.SORTS, so a page is read straight off an index instead of sorting.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0009_copies"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="imagetask", name="task_status_recent"),
        migrations.RemoveIndex(model_name="imagetask", name="task_cloud_recent"),
        migrations.RemoveIndex(model_name="imagetask", name="task_owner_recent"),
        migrations.RemoveIndex(model_name="imagetask", name="task_recent_change"),
        migrations.AlterField(
            model_name="imagetask",
            name="submitted_at",
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.AddIndex(
            model_name="imagetask",
            index=models.Index(fields=["-submitted_at", "-id"], name="task_recent"),
        ),
        migrations.AddIndex(
            model_name="imagetask",
            index=models.Index(fields=["-changed_at", "-id"], name="task_recent_change"),
        ),
        migrations.AddIndex(
            model_name="imagetask",
            index=models.Index(
                fields=["status", "-submitted_at", "-id"], name="task_status_recent"
            ),
        ),
        migrations.AddIndex(
            model_name="imagetask",
            index=models.Index(fields=["type", "-submitted_at", "-id"], name="task_type_recent"),
        ),
        migrations.AddIndex(
            model_name="imagetask",
            index=models.Index(fields=["name", "-submitted_at", "-id"], name="task_name_recent"),
        ),
        migrations.AddIndex(
            model_name="imagetask",
            index=models.Index(fields=["cloud", "-submitted_at", "-id"], name="task_cloud_recent"),
        ),
        migrations.AddIndex(
            model_name="imagetask",
            index=models.Index(
                fields=["submitted_by", "-submitted_at", "-id"], name="task_owner_recent"
            ),
        ),
    ]
