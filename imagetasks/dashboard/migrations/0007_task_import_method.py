"""An import says how it is done: the tasks API, or an interoperable import method."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0006_cloud_capabilities'),
    ]

    operations = [
        migrations.AddField(
            model_name='imagetask',
            name='method',
            field=models.CharField(blank=True, choices=[('', 'Tasks API'), ('web-download', 'From a URL'), ('glance-direct', 'Upload'), ('copy-image', 'Copy to more stores'), ('glance-download', 'From another region')], default='', max_length=32),
        ),
    ]
