"""Departments as records HR manages, made from the free-text names employees hold today."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


HR_GROUP_NAME = "HR"
# Added to the HR role (shop.roles.HR_PERMISSIONS lists them too). No delete: departments are
# merged or deactivated, so history never points at a missing one.
ADDED_HR_PERMISSIONS = ("shop.view_department", "shop.add_department", "shop.change_department")


def departments_from_free_text(apps, schema_editor):
    """One record per department name employees hold today, spelled exactly as stored.

    Near-duplicates ("Sales", "sales ", "Customer  Success") become separate records on
    purpose: which spelling is right is HR's call, so the Departments page lists them for HR to
    merge. The distinct names are taken in Python, since a case-insensitive collation (MariaDB's)
    would fold them in SQL.
    """
    User = apps.get_model("shop", "User")
    Department = apps.get_model("shop", "Department")
    names = set(User.objects.exclude(department="").values_list("department", flat=True).iterator())
    known = set(Department.objects.values_list("name", flat=True))
    Department.objects.bulk_create([Department(name=name) for name in sorted(names - known)], batch_size=500)


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
        ('shop', '0005_user_manager_location'),
        ('points', '0004_hr_group'),
    ]

    operations = [
        migrations.CreateModel(
            name='Department',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('name', models.CharField(db_index=True, max_length=100)),
                ('location', models.CharField(blank=True, db_default='', default='', max_length=100)),
                ('is_active', models.BooleanField(db_default=True, default=True, help_text='Inactive departments are no longer offered for employees or grants; reports keep them.')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('manager', models.ForeignKey(blank=True, help_text='Who runs the department, if recorded.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='managed_departments', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ('name',),
            },
        ),
        migrations.RunPython(departments_from_free_text, migrations.RunPython.noop),
        migrations.RunPython(add_hr_permissions, remove_hr_permissions),
    ]
