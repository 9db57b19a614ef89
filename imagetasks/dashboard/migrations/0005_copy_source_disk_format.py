"""A copy keeps the source image's disk format: a VHD image's checksum is the MD5 of its export."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0004_cloud_segment_size'),
    ]

    operations = [
        migrations.AddField(
            model_name='copy',
            name='source_disk_format',
            field=models.CharField(blank=True, max_length=16),
        ),
    ]
