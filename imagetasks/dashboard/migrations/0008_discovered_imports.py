"""Imports found on a cloud: how far discovery has read its images, what it could not
read, and a method for an import whose task did not say one."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0007_task_import_method'),
    ]

    operations = [
        migrations.AddField(
            model_name='cloud',
            name='discovery_error',
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name='cloud',
            name='imports_discovered_until',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name='imagetask',
            name='method',
            field=models.CharField(blank=True, choices=[('', 'Tasks API'), ('web-download', 'From a URL'), ('glance-direct', 'Upload'), ('copy-image', 'Copy to more stores'), ('glance-download', 'From another region'), ('unknown', 'Unknown import')], default='', max_length=32),
        ),
    ]
