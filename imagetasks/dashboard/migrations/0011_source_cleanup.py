# The option to delete an import's source object once the import succeeded.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0010_task_table_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="imagetask",
            name="delete_source_after_import",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="imagetask",
            name="source_deleted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="imagetask",
            name="source_cleanup_error",
            field=models.TextField(blank=True),
        ),
    ]
