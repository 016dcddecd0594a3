"""Create the HR group with exactly the permissions the back office needs (see shop.roles)."""

from django.db import migrations

HR_GROUP_NAME = "HR"
# Frozen copy of shop.roles.HR_PERMISSIONS at the time of this migration.
HR_PERMISSIONS = (
    "shop.view_user",
    "shop.add_user",
    "shop.change_user",
    "points.view_pointstransaction",
    "points.grant_points",
    "points.view_grantbatch",
    "catalog.view_category",
    "catalog.add_category",
    "catalog.change_category",
    "catalog.view_product",
    "catalog.add_product",
    "catalog.change_product",
    "catalog.change_stock",
    "catalog.view_stockmovement",
    "orders.view_order",
    "orders.refund_order",
)


def create_hr_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran (post_migrate); create them
    # now so the group can reference them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=HR_GROUP_NAME)
    permissions = []
    for name in HR_PERMISSIONS:
        app_label, codename = name.split(".")
        permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    group.permissions.set(permissions)


def delete_hr_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=HR_GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("points", "0003_pending_grant_import_and_grant_permission"),
        ("catalog", "0003_product_change_stock_permission"),
        ("orders", "0003_order_refund_permission"),
        ("shop", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_hr_group, delete_hr_group)]
