"""The built-in cloud's tables as of 0.1.0, in one step (0001 and 0002 squashed)."""

import django.db.models.deletion
import imagetasks.localcloud.models.identity
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):
    # A database that applied the migrations before the squash takes this one as applied.
    replaces = [
        ('localcloud', '0001_initial'),
        ('localcloud', '0002_stored_objects_relation'),
    ]

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='Project',
            fields=[
                ('id', models.CharField(default=imagetasks.localcloud.models.identity._new_project_id, max_length=32, primary_key=True, serialize=False)),
                ('name', models.CharField(max_length=64, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.CreateModel(
            name='Container',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=256)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('metadata', models.JSONField(blank=True, default=dict)),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='containers', to='localcloud.project')),
            ],
        ),
        migrations.CreateModel(
            name='CloudUser',
            fields=[
                ('id', models.CharField(default=imagetasks.localcloud.models.identity._new_project_id, max_length=32, primary_key=True, serialize=False)),
                ('name', models.CharField(max_length=64, unique=True)),
                ('password_hash', models.CharField(blank=True, max_length=200)),
                ('api_key_hash', models.CharField(blank=True, max_length=200)),
                ('enabled', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='users', to='localcloud.project')),
            ],
        ),
        migrations.CreateModel(
            name='CloudTask',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, primary_key=True, serialize=False)),
                ('type', models.CharField(choices=[('import', 'Import'), ('export', 'Export')], max_length=16)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('processing', 'Processing'), ('success', 'Success'), ('failure', 'Failure')], default='pending', max_length=16)),
                ('input', models.JSONField(default=dict)),
                ('result', models.JSONField(blank=True, null=True)),
                ('message', models.TextField(blank=True, default='')),
                ('created_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField()),
                ('expires_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tasks', to='localcloud.project')),
            ],
        ),
        migrations.CreateModel(
            name='StoredObject',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=1024)),
                ('size', models.BigIntegerField()),
                ('etag', models.CharField(blank=True, max_length=32)),
                ('content_type', models.CharField(default='application/octet-stream', max_length=255)),
                ('last_modified', models.DateTimeField()),
                ('metadata', models.JSONField(blank=True, default=dict)),
                ('delete_at', models.DateTimeField(blank=True, null=True)),
                ('blob_id', models.CharField(max_length=64)),
                ('container', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='stored_objects', to='localcloud.container')),
            ],
        ),
        migrations.CreateModel(
            name='Token',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key_hash', models.CharField(max_length=64, unique=True)),
                ('issued_at', models.DateTimeField(auto_now_add=True)),
                ('expires_at', models.DateTimeField(db_index=True)),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tokens', to='localcloud.project')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tokens', to='localcloud.clouduser')),
            ],
        ),
        migrations.CreateModel(
            name='Image',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, primary_key=True, serialize=False)),
                ('name', models.CharField(blank=True, max_length=255, null=True)),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('saving', 'Saving'), ('active', 'Active'), ('killed', 'Killed'), ('deleted', 'Deleted'), ('deactivated', 'Deactivated')], default='queued', max_length=16)),
                ('disk_format', models.CharField(blank=True, max_length=16, null=True)),
                ('container_format', models.CharField(blank=True, max_length=16, null=True)),
                ('size', models.BigIntegerField(blank=True, null=True)),
                ('virtual_size', models.BigIntegerField(blank=True, null=True)),
                ('checksum', models.CharField(blank=True, max_length=32, null=True)),
                ('os_hash_algo', models.CharField(blank=True, max_length=16, null=True)),
                ('os_hash_value', models.CharField(blank=True, max_length=128, null=True)),
                ('visibility', models.CharField(default='private', max_length=16)),
                ('protected', models.BooleanField(default=False)),
                ('min_disk', models.IntegerField(default=0)),
                ('min_ram', models.IntegerField(default=0)),
                ('tags', models.JSONField(blank=True, default=list)),
                ('properties', models.JSONField(blank=True, default=dict)),
                ('blob_id', models.CharField(blank=True, max_length=64)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='images', to='localcloud.project')),
            ],
            options={
                'indexes': [models.Index(fields=['project', 'created_at'], name='localcloud__project_ca6945_idx')],
            },
        ),
        migrations.AddConstraint(
            model_name='container',
            constraint=models.UniqueConstraint(fields=('project', 'name'), name='unique_container_name'),
        ),
        migrations.AddIndex(
            model_name='cloudtask',
            index=models.Index(fields=['project', 'created_at'], name='localcloud__project_b949db_idx'),
        ),
        migrations.AddIndex(
            model_name='cloudtask',
            index=models.Index(fields=['project', 'updated_at'], name='localcloud__project_fdacb0_idx'),
        ),
        migrations.AddIndex(
            model_name='cloudtask',
            index=models.Index(fields=['status', 'started_at'], name='localcloud__status_8ad75c_idx'),
        ),
        migrations.AddConstraint(
            model_name='storedobject',
            constraint=models.UniqueConstraint(fields=('container', 'name'), name='unique_object_name'),
        ),
    ]
