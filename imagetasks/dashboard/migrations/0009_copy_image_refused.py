"""A cloud remembers that it refused this account copy-image, until capabilities are asked again."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0008_discovered_imports'),
    ]

    operations = [
        migrations.AddField(
            model_name='cloud',
            name='copy_image_refused_at',
            field=models.DateTimeField(blank=True, editable=False, help_text='When the cloud last refused this account a copy-image (its policy).', null=True),
        ),
    ]
