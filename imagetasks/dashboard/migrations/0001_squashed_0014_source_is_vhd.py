"""The dashboard's tables as of 0.1.0, in one step (0001 to 0014 squashed), and the two
groups access is decided by: operators change things, viewers only look.

Membership is checked by name (``imagetasks.dashboard.access``), so the groups carry no
permissions of their own; which clouds a person sees is granted on the cloud
(``Cloud.users`` / ``Cloud.groups``).
"""

import datetime
import django.core.validators
import django.db.models.deletion
import django.db.models.fields.json
import django.db.models.functions.comparison
import django.db.models.functions.text
import uuid
from django.conf import settings
from django.db import migrations, models


GROUPS = ["operators", "viewers"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)


def keep_groups(apps, schema_editor):
    # Groups may have members and clouds by now; removing them would silently take
    # access away, so going back leaves them in place.
    pass


class Migration(migrations.Migration):
    # A database that applied the migrations before the squash takes this one as applied.
    replaces = [
        ('dashboard', '0001_initial'),
        ('dashboard', '0002_cloud_imagetask_tasksnapshot_imagetask_due_poll_and_more'),
        ('dashboard', '0003_poller_bookkeeping'),
        ('dashboard', '0004_vanished_status'),
        ('dashboard', '0005_groups'),
        ('dashboard', '0006_cloud_scan_lease'),
        ('dashboard', '0007_faster_default_request_cap'),
        ('dashboard', '0008_notifications'),
        ('dashboard', '0009_copies'),
        ('dashboard', '0010_task_table_indexes'),
        ('dashboard', '0011_source_cleanup'),
        ('dashboard', '0012_task_search'),
        ('dashboard', '0013_task_status_changed_index'),
        ('dashboard', '0014_source_is_vhd'),
    ]

    initial = True

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Heartbeat',
            fields=[
                ('part', models.CharField(max_length=40, primary_key=True, serialize=False)),
                ('last_seen', models.DateTimeField()),
                ('detail', models.CharField(blank=True, max_length=200)),
            ],
            options={
                'verbose_name': 'heartbeat',
            },
        ),
        migrations.CreateModel(
            name='Cloud',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.SlugField(max_length=64, unique=True)),
                ('description', models.CharField(blank=True, max_length=200)),
                ('auth_type', models.CharField(choices=[('v3password', 'Keystone v3 password'), ('v3applicationcredential', 'Keystone v3 application credential'), ('v2password', 'Identity v2.0 password'), ('rackspace_apikey', 'Rackspace API key'), ('token', 'Fixed token'), ('none', 'No authentication (endpoint overrides)')], default='v3password', max_length=32)),
                ('auth_url', models.URLField(blank=True, max_length=500)),
                ('region', models.CharField(blank=True, max_length=64)),
                ('interface', models.CharField(choices=[('public', 'Public'), ('internal', 'Internal'), ('admin', 'Admin')], default='public', max_length=16)),
                ('username', models.CharField(blank=True, max_length=255)),
                ('user_domain', models.CharField(blank=True, default='Default', max_length=255)),
                ('project_name', models.CharField(blank=True, max_length=255)),
                ('project_id', models.CharField(blank=True, max_length=255)),
                ('project_domain', models.CharField(blank=True, default='Default', max_length=255)),
                ('application_credential_id', models.CharField(blank=True, max_length=255)),
                ('secret_encrypted', models.TextField(blank=True, editable=False)),
                ('verify_tls', models.BooleanField(default=True)),
                ('image_endpoint', models.URLField(blank=True, help_text="Overrides the catalog's image endpoint.", max_length=500)),
                ('object_store_endpoint', models.URLField(blank=True, help_text="Overrides the catalog's object-store endpoint.", max_length=500)),
                ('timeout', models.FloatField(default=20.0, validators=[django.core.validators.MinValueValidator(1.0)])),
                ('poll_min_interval', models.FloatField(default=2.0, validators=[django.core.validators.MinValueValidator(0.2)])),
                ('poll_max_interval', models.FloatField(default=60.0, validators=[django.core.validators.MinValueValidator(1.0)])),
                ('max_requests_per_second', models.FloatField(default=30.0, help_text='Cap on the requests the poller sends to this cloud.', validators=[django.core.validators.MinValueValidator(0.1)])),
                ('stale_after', models.DurationField(default=datetime.timedelta(seconds=21600), help_text='A task processing longer than this without change is flagged stale.')),
                ('discover_tasks', models.BooleanField(default=False, help_text='Adopt tasks created elsewhere (CLI, SDK) for the audit trail.')),
                ('auto_resubmit_396', models.BooleanField(default=False, help_text="Resubmit imports that fail with Rackspace's transient error code 396.")),
                ('enabled', models.BooleanField(default=True)),
                ('list_watermark', models.DateTimeField(blank=True, editable=False, null=True)),
                ('discovered_until', models.DateTimeField(blank=True, editable=False, null=True)),
                ('scan_until', models.DateTimeField(blank=True, editable=False, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('webhook_url', models.URLField(blank=True, help_text='Receives a signed JSON POST when a task of this cloud finishes or goes stale.', max_length=500)),
                ('webhook_secret_encrypted', models.TextField(blank=True, editable=False)),
                ('groups', models.ManyToManyField(blank=True, help_text='Groups whose members may see and use this cloud.', related_name='clouds', to='auth.group')),
                ('users', models.ManyToManyField(blank=True, help_text='People who may see and use this cloud.', related_name='clouds', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='ImageTask',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('remote_id', models.CharField(blank=True, max_length=64, null=True)),
                ('type', models.CharField(choices=[('import', 'Import'), ('export', 'Export')], max_length=16)),
                ('input', models.JSONField(default=dict)),
                ('name', models.CharField(blank=True, help_text='What the task is about: image name or id.', max_length=255)),
                ('status', models.CharField(choices=[('submitting', 'Submitting'), ('unconfirmed', 'Unconfirmed'), ('pending', 'Pending'), ('processing', 'Processing'), ('success', 'Success'), ('failure', 'Failure'), ('rejected', 'Rejected'), ('lost', 'Not submitted'), ('vanished', 'Vanished')], default='submitting', max_length=16)),
                ('result', models.JSONField(blank=True, null=True)),
                ('message', models.TextField(blank=True)),
                ('origin', models.CharField(choices=[('submitted', 'Submitted'), ('resubmitted', 'Resubmitted'), ('discovered', 'Discovered')], default='submitted', max_length=16)),
                ('submitted_at', models.DateTimeField(auto_now_add=True)),
                ('remote_created_at', models.DateTimeField(blank=True, null=True)),
                ('remote_updated_at', models.DateTimeField(blank=True, null=True)),
                ('expires_at', models.DateTimeField(blank=True, null=True)),
                ('remote_gone_at', models.DateTimeField(blank=True, null=True)),
                ('changed_at', models.DateTimeField(auto_now_add=True, help_text='Last observed change.')),
                ('next_poll_at', models.DateTimeField(blank=True, null=True)),
                ('poll_interval', models.FloatField(default=2.0)),
                ('claimed_until', models.DateTimeField(blank=True, null=True)),
                ('last_polled_at', models.DateTimeField(blank=True, null=True)),
                ('poll_errors', models.PositiveIntegerField(default=0)),
                ('last_error', models.TextField(blank=True)),
                ('last_error_at', models.DateTimeField(blank=True, null=True)),
                ('stale_since', models.DateTimeField(blank=True, null=True)),
                ('watching', models.BooleanField(default=True)),
                ('version', models.PositiveBigIntegerField(default=1)),
                ('delete_source_after_import', models.BooleanField(default=False)),
                ('source_deleted_at', models.DateTimeField(blank=True, null=True)),
                ('source_cleanup_error', models.TextField(blank=True)),
                ('source_is_vhd', models.BooleanField(blank=True, null=True)),
                ('search_text', models.GeneratedField(db_persist=True, expression=django.db.models.functions.text.Lower(django.db.models.functions.text.Concat('name', models.Value(' '), django.db.models.functions.comparison.Coalesce('remote_id', models.Value(''), output_field=models.TextField()), models.Value(' '), django.db.models.functions.comparison.Coalesce(django.db.models.fields.json.KeyTextTransform('import_from', 'input'), models.Value(''), output_field=models.TextField()), models.Value(' '), django.db.models.functions.comparison.Coalesce(django.db.models.fields.json.KeyTextTransform('image_uuid', 'input'), models.Value(''), output_field=models.TextField()), models.Value(' '), django.db.models.functions.comparison.Coalesce(django.db.models.fields.json.KeyTextTransform('receiving_swift_container', 'input'), models.Value(''), output_field=models.TextField()), models.Value(' '), django.db.models.functions.comparison.Coalesce(django.db.models.fields.json.KeyTextTransform('image_id', 'result'), models.Value(''), output_field=models.TextField()), models.Value(' '), django.db.models.functions.comparison.Coalesce(django.db.models.fields.json.KeyTextTransform('export_location', 'result'), models.Value(''), output_field=models.TextField()), output_field=models.TextField())), output_field=models.TextField())),
                ('cloud', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='tasks', to='dashboard.cloud')),
                ('resubmitted_from', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='resubmissions', to='dashboard.imagetask')),
                ('submitted_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='image_tasks', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-submitted_at'],
            },
        ),
        migrations.CreateModel(
            name='Copy',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('source_image_id', models.CharField(max_length=64)),
                ('source_image_name', models.CharField(blank=True, max_length=255)),
                ('source_checksum', models.CharField(blank=True, max_length=64)),
                ('target_name', models.CharField(max_length=255)),
                ('disk_format', models.CharField(default='vhd', max_length=16)),
                ('status', models.CharField(choices=[('exporting', 'Exporting'), ('transferring', 'Transferring'), ('importing', 'Importing'), ('cleaning', 'Cleaning'), ('succeeded', 'Succeeded'), ('failed', 'Failed')], default='exporting', max_length=16)),
                ('error', models.TextField(blank=True, help_text='Why the copy failed; kept after clean-up.')),
                ('staging_container', models.CharField(max_length=256)),
                ('staging_object', models.CharField(blank=True, max_length=1024)),
                ('object_etag', models.CharField(blank=True, max_length=64)),
                ('target_image_id', models.CharField(blank=True, max_length=64)),
                ('bytes_total', models.BigIntegerField(blank=True, null=True)),
                ('bytes_done', models.BigIntegerField(default=0)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('next_step_at', models.DateTimeField(blank=True, null=True)),
                ('claimed_until', models.DateTimeField(blank=True, null=True)),
                ('lease_token', models.CharField(blank=True, max_length=32)),
                ('version', models.PositiveBigIntegerField(default=1)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now_add=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='image_copies', to=settings.AUTH_USER_MODEL)),
                ('source_cloud', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='copies_out', to='dashboard.cloud')),
                ('target_cloud', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='copies_in', to='dashboard.cloud')),
                ('export_task', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='copy_exports', to='dashboard.imagetask')),
                ('import_task', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='copy_imports', to='dashboard.imagetask')),
            ],
            options={
                'verbose_name_plural': 'copies',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='Profile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email_on_completion', models.BooleanField(default=True, help_text='Email me when a task I submitted finishes or is flagged stale.')),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='imagetasks_profile', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='TaskSnapshot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('observed_at', models.DateTimeField()),
                ('status', models.CharField(max_length=16)),
                ('message', models.TextField(blank=True)),
                ('result', models.JSONField(blank=True, null=True)),
                ('remote_updated_at', models.DateTimeField(blank=True, null=True)),
                ('expires_at', models.DateTimeField(blank=True, null=True)),
                ('body', models.JSONField()),
                ('fingerprint', models.CharField(max_length=64)),
                ('task', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='snapshots', to='dashboard.imagetask')),
            ],
            options={
                'ordering': ['observed_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Notification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('event', models.CharField(choices=[('outcome', 'Finished'), ('stale', 'Flagged stale')], max_length=16)),
                ('channel', models.CharField(choices=[('email', 'Email'), ('webhook', 'Webhook')], max_length=16)),
                ('target', models.CharField(max_length=500)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed')], default='pending', max_length=16)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('claim', models.PositiveBigIntegerField(default=0, help_text='Fencing token of the holder.')),
                ('claimed_until', models.DateTimeField(blank=True, null=True)),
                ('next_attempt_at', models.DateTimeField()),
                ('last_attempt_at', models.DateTimeField(blank=True, null=True)),
                ('last_error', models.TextField(blank=True)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('task', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='notifications', to='dashboard.imagetask')),
                ('snapshot', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='notifications', to='dashboard.tasksnapshot')),
            ],
            options={
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='CopyEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('step', models.CharField(max_length=16)),
                ('status', models.CharField(max_length=16)),
                ('message', models.TextField(blank=True)),
                ('at', models.DateTimeField()),
                ('copy', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='dashboard.copy')),
            ],
            options={
                'ordering': ['at', 'id'],
                'indexes': [models.Index(fields=['copy', 'at'], name='copy_event_timeline')],
            },
        ),
        migrations.AddIndex(
            model_name='imagetask',
            index=models.Index(condition=models.Q(('next_poll_at__isnull', False)), fields=['next_poll_at'], name='due_poll'),
        ),
        migrations.AddIndex(
            model_name='imagetask',
            index=models.Index(fields=['-submitted_at', '-id'], name='task_recent'),
        ),
        migrations.AddIndex(
            model_name='imagetask',
            index=models.Index(fields=['-changed_at', '-id'], name='task_recent_change'),
        ),
        migrations.AddIndex(
            model_name='imagetask',
            index=models.Index(fields=['status', '-submitted_at', '-id'], name='task_status_recent'),
        ),
        migrations.AddIndex(
            model_name='imagetask',
            index=models.Index(fields=['status', '-changed_at'], name='task_status_changed'),
        ),
        migrations.AddIndex(
            model_name='imagetask',
            index=models.Index(fields=['type', '-submitted_at', '-id'], name='task_type_recent'),
        ),
        migrations.AddIndex(
            model_name='imagetask',
            index=models.Index(fields=['name', '-submitted_at', '-id'], name='task_name_recent'),
        ),
        migrations.AddIndex(
            model_name='imagetask',
            index=models.Index(fields=['cloud', '-submitted_at', '-id'], name='task_cloud_recent'),
        ),
        migrations.AddIndex(
            model_name='imagetask',
            index=models.Index(fields=['submitted_by', '-submitted_at', '-id'], name='task_owner_recent'),
        ),
        migrations.AddConstraint(
            model_name='imagetask',
            constraint=models.UniqueConstraint(condition=models.Q(('remote_id__isnull', False)), fields=('cloud', 'remote_id'), name='unique_remote_task_per_cloud'),
        ),
        migrations.AddIndex(
            model_name='copy',
            index=models.Index(condition=models.Q(('next_step_at__isnull', False)), fields=['next_step_at'], name='copy_due_step'),
        ),
        migrations.AddIndex(
            model_name='copy',
            index=models.Index(fields=['-created_at'], name='copy_recent'),
        ),
        migrations.AddIndex(
            model_name='tasksnapshot',
            index=models.Index(fields=['task', 'observed_at'], name='snapshot_timeline'),
        ),
        migrations.AddConstraint(
            model_name='tasksnapshot',
            constraint=models.UniqueConstraint(fields=('task', 'fingerprint'), name='unique_observation'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(condition=models.Q(('status', 'pending')), fields=['next_attempt_at'], name='notification_due'),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.UniqueConstraint(fields=('snapshot', 'event', 'channel'), name='unique_notification'),
        ),
        migrations.RunPython(create_groups, keep_groups),
    ]
