"""The two groups access is decided by: operators change things, viewers only look.

Membership is checked by name (``imagetasks.dashboard.access``), so the groups
carry no permissions of their own; which clouds a person sees is granted on
the cloud (``Cloud.users`` / ``Cloud.groups``).
"""

from django.db import migrations

GROUPS = ["operators", "viewers"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    # Groups may have members and clouds by now; removing them would silently
    # take access away, so going back leaves them in place.
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("dashboard", "0004_vanished_status"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
