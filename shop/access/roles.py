"""The HR role: the one group of admin users, and exactly the permissions its job needs.

The data migration points/0004_hr_group creates the group with a frozen copy of this list;
a test checks the two agree, so a change here comes with a migration.
"""

from __future__ import annotations

HR_GROUP_NAME = "HR"

# "app_label.codename". No delete permissions (products are deactivated, orders refunded, the
# ledger is append-only) and nothing on groups or permissions, so HR cannot widen its own role.
HR_PERMISSIONS: tuple[str, ...] = (
    "shop.view_user",
    "shop.add_user",
    "shop.change_user",
    "shop.view_department",
    "shop.add_department",
    "shop.change_department",
    "points.view_pointstransaction",
    "points.grant_points",
    "points.view_grantbatch",
    "points.view_grantrequest",
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
    "notifications.view_notification",
)
