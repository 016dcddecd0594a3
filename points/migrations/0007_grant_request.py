"""Four eyes: grant and adjustment requests above GRANT_APPROVAL_THRESHOLD wait here for a
second HR user; the HR group may see them (deciding needs points.grant_points, which it has)."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


HR_GROUP_NAME = "HR"
# Added to the frozen list of 0004_hr_group (shop.roles.HR_PERMISSIONS has it too).
ADDED_HR_PERMISSIONS = ("points.view_grantrequest",)


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
        ('points', '0006_ledger_rows_cannot_be_deleted'),
        ('points', '0004_hr_group'),
        ('shop', '0003_user_is_employee_department'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='GrantRequest',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('kind', models.CharField(choices=[('grant', 'Grant to one employee'), ('adjust', 'Adjustment of one employee'), ('bulk', 'Bulk grant')], max_length=16)),
                ('source', models.CharField(blank=True, help_text='For bulk grants: all_active, selection, csv.', max_length=32)),
                ('reason', models.CharField(max_length=255)),
                ('payload', models.JSONField()),
                ('rows', models.PositiveIntegerField()),
                ('total_points', models.BigIntegerField(help_text='Sum of the points moved, deductions counted by size.')),
                ('filename', models.CharField(blank=True, max_length=255)),
                ('content_hash', models.CharField(blank=True, max_length=64)),
                ('requested_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('approved', 'Approved'), ('rejected', 'Rejected')], default='pending', max_length=16)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('note', models.CharField(blank=True, max_length=255)),
                ('batch', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='grant_request', to='points.grantbatch')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'grant approval request',
                'ordering': ('-requested_at',),
                'indexes': [models.Index(fields=['status', '-requested_at'], name='grant_request_status_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('batch__isnull', True), ('decided_at__isnull', True), ('decided_by__isnull', True), ('status', 'pending')), models.Q(('batch__isnull', True), ('decided_at__isnull', False), ('decided_by__isnull', False), ('status', 'rejected')), models.Q(('batch__isnull', False), ('decided_at__isnull', False), ('decided_by__isnull', False), ('status', 'approved'), models.Q(('decided_by', models.F('requested_by')), _negated=True)), _connector='OR'), name='grant_request_decision_recorded')],
            },
        ),
        migrations.RunPython(add_hr_permissions, remove_hr_permissions),
    ]
