"""Each cloud keeps what it offers for imports, as last discovered."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0005_copy_source_disk_format'),
    ]

    operations = [
        migrations.AddField(
            model_name='cloud',
            name='capabilities_checked_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='cloud',
            name='capabilities_error',
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name='cloud',
            name='image_stores',
            field=models.JSONField(blank=True, editable=False, help_text='Stores an import may target: id, description, default.', null=True),
        ),
        migrations.AddField(
            model_name='cloud',
            name='images_api_version',
            field=models.CharField(blank=True, editable=False, help_text='Highest Images API version.', max_length=16),
        ),
        migrations.AddField(
            model_name='cloud',
            name='import_methods',
            field=models.JSONField(blank=True, editable=False, help_text='Interoperable import methods offered.', null=True),
        ),
        migrations.AddField(
            model_name='cloud',
            name='tasks_api',
            field=models.CharField(choices=[('unknown', 'Unknown'), ('permitted', 'Permitted'), ('admin-only', 'Admin only')], default='unknown', editable=False, help_text='Whether this account may use /v2/tasks.', max_length=16),
        ),
    ]
