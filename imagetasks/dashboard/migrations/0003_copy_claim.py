"""Copies are fenced like notifications: an integer ``claim`` raised at each claim.

The uuid ``lease_token`` goes. A lease held under the old token belongs to a job
of the previous release, which cannot write to the new column anyway: such
leases are given back, so the next sweep claims those copies at once instead of
waiting for the lease to run out. No copy's state is changed.
"""

from django.db import migrations, models


def give_back_old_leases(apps, schema_editor):
    Copy = apps.get_model("dashboard", "Copy")
    # The database being migrated, which is not always the default one (the benchmarks
    # migrate a second database for the built-in cloud).
    copies = Copy.objects.using(schema_editor.connection.alias)
    copies.exclude(lease_token="").update(claimed_until=None)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0002_copy_status_map"),
    ]

    operations = [
        migrations.AddField(
            model_name="copy",
            name="claim",
            field=models.PositiveBigIntegerField(
                default=0, help_text="Fencing token of the holder."
            ),
        ),
        migrations.RunPython(give_back_old_leases, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="copy",
            name="lease_token",
        ),
    ]
