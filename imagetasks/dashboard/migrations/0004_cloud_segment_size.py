"""Each cloud says how big the segments of its large objects are (1 GiB by default)."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0003_copy_claim'),
    ]

    operations = [
        migrations.AddField(
            model_name='cloud',
            name='segment_size',
            field=models.BigIntegerField(default=1073741824, help_text="Bytes per segment when an object is stored in this cloud's object storage in parts (a static large object): objects above it are cut. At least 1 MiB; the store's own limits can raise or lower it.", validators=[django.core.validators.MinValueValidator(1048576)]),
        ),
    ]
