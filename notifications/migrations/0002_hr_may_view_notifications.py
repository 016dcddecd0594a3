"""The HR group may see the outbox (what was sent to whom, what failed) and send a failed or
unknown message again; shop.roles.HR_PERMISSIONS lists it too."""

from django.db import migrations

HR_GROUP_NAME = "HR"
ADDED_HR_PERMISSIONS = ("notifications.view_notification",)


def _permissions(apps):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    for name in ADDED_HR_PERMISSIONS:
        app_label, codename = name.split(".")
        yield Permission.objects.get(content_type__app_label=app_label, codename=codename)


def add_hr_permissions(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=HR_GROUP_NAME).first()
    if group is not None:
        group.permissions.add(*_permissions(apps))


def remove_hr_permissions(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=HR_GROUP_NAME).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("points", "0007_grant_request"),
    ]

    operations = [migrations.RunPython(add_hr_permissions, remove_hr_permissions)]
