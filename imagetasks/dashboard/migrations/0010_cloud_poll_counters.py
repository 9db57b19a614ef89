"""A cloud counts the requests its poller sent and the ones that failed, for /metrics."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0009_copy_image_refused'),
    ]

    operations = [
        migrations.AddField(
            model_name='cloud',
            name='poll_request_errors',
            field=models.PositiveBigIntegerField(default=0, editable=False, help_text="Poll requests answered with an error (a task's 404 aside) or not answered."),
        ),
        migrations.AddField(
            model_name='cloud',
            name='poll_requests',
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
    ]
