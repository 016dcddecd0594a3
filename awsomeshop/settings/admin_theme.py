"""The back office's theme (django-unfold): AWSomeShop's name and colours, and HR's navigation.

Each navigation entry is shown only to users who hold the permission of the page it opens, so
the sidebar never offers a page that would answer 403. Why django-unfold: docs/admin.md,
"The theme".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse_lazy

SITE_NAME = "AWSomeShop administration"


def _allowed(*perms: str) -> Callable[[HttpRequest], bool]:
    def check(request: HttpRequest) -> bool:
        return any(request.user.has_perm(perm) for perm in perms)

    return check


def _item(title: str, icon: str, url_name: str, *perms: str) -> dict[str, Any]:
    item: dict[str, Any] = {"title": title, "icon": icon, "link": reverse_lazy(url_name)}
    if perms:
        item["permission"] = _allowed(*perms)
    return item


# AWS's orange as the primary colour (Tailwind's orange scale, in the theme's OKLCH notation).
PRIMARY = {
    "50": "oklch(98% .016 73.684)",
    "100": "oklch(95.4% .038 75.164)",
    "200": "oklch(90.1% .076 70.697)",
    "300": "oklch(83.7% .128 66.29)",
    "400": "oklch(75% .183 55.934)",
    "500": "oklch(70.5% .213 47.604)",
    # Buttons carry white text on 600: one step darker than Tailwind's, for contrast.
    "600": "oklch(55.3% .195 38.402)",
    "700": "oklch(47% .157 37.304)",
    "800": "oklch(40.8% .123 38.172)",
    "900": "oklch(33% .1 37.5)",
    "950": "oklch(26.6% .079 36.259)",
}


def admin_theme_settings() -> dict[str, Any]:
    """The UNFOLD setting."""
    return {
        "SITE_TITLE": SITE_NAME,
        "SITE_HEADER": SITE_NAME,
        "SITE_SUBHEADER": "HR back office",
        "SITE_SYMBOL": "redeem",
        # "View site" and "Return to site" lead to the employee storefront at the site root
        # (awsomeshop/urls.py says the same to Django).
        "SITE_URL": "/",
        "SHOW_HISTORY": True,
        "SHOW_VIEW_ON_SITE": False,
        "BORDER_RADIUS": "6px",
        "COLORS": {"primary": PRIMARY},
        # Styles for the back office's own pages (dashboard, reports, imports, forms).
        "STYLES": [lambda request: static("hr/back-office.css")],
        # The storefront's icon: without one, browsers ask for /favicon.ico, which is a 404.
        "SITE_FAVICONS": [
            {"rel": "icon", "type": "image/svg+xml", "href": lambda request: static("storefront/icon.svg")}
        ],
        "SIDEBAR": {
            "show_search": False,
            # Superusers and operators still reach every model (groups, users' syncs, ...).
            "show_all_applications": True,
            "navigation": [
                {
                    "title": "Back office",
                    "separator": False,
                    "items": [
                        _item("Dashboard", "dashboard", "admin:index"),
                        _item("Employees", "group", "admin:shop_user_changelist", "shop.view_user"),
                        _item(
                            "Departments",
                            "apartment",
                            "admin:shop_department_changelist",
                            "shop.view_department",
                        ),
                        _item(
                            "Cognito syncs", "sync", "admin:shop_identitysync_changelist", "shop.change_user"
                        ),
                    ],
                },
                {
                    "title": "Points",
                    "separator": True,
                    "items": [
                        _item(
                            "Ledger",
                            "receipt_long",
                            "admin:points_pointstransaction_changelist",
                            "points.view_pointstransaction",
                        ),
                        _item(
                            "Grant batches",
                            "stacks",
                            "admin:points_grantbatch_changelist",
                            "points.view_grantbatch",
                        ),
                        _item(
                            "Grant requests",
                            "approval",
                            "admin:points_grantrequest_changelist",
                            "points.view_grantrequest",
                        ),
                    ],
                },
                {
                    "title": "Catalog and orders",
                    "separator": True,
                    "items": [
                        _item(
                            "Products",
                            "inventory_2",
                            "admin:catalog_product_changelist",
                            "catalog.view_product",
                        ),
                        _item(
                            "Categories",
                            "category",
                            "admin:catalog_category_changelist",
                            "catalog.view_category",
                        ),
                        _item(
                            "Stock changes",
                            "swap_vert",
                            "admin:catalog_stockmovement_changelist",
                            "catalog.view_stockmovement",
                        ),
                        _item(
                            "Orders", "shopping_cart", "admin:orders_order_changelist", "orders.view_order"
                        ),
                    ],
                },
                {
                    "title": "Insight",
                    "separator": True,
                    "items": [
                        _item("Reports", "bar_chart", "hr_reports", "points.view_pointstransaction"),
                        _item(
                            "Notifications",
                            "mail",
                            "admin:notifications_notification_changelist",
                            "notifications.view_notification",
                        ),
                    ],
                },
            ],
        },
    }
