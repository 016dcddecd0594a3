"""The back office's theme: every admin page on it, and a sidebar that offers only what opens."""

from __future__ import annotations

import re

from django.contrib import admin
from django.urls import reverse
from unfold.admin import ModelAdmin
from unfold.sites import UnfoldAdminSite


def _sidebar_links(body: str) -> list[str]:
    sidebar = body.split('id="nav-sidebar"', 1)[1].split('id="logout-form"', 1)[0]
    return re.findall(r'href="(/admin/[^"#?]*)"', sidebar)


def test_every_model_admin_is_on_the_theme():
    assert isinstance(admin.site, UnfoldAdminSite)
    plain = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, ModelAdmin)
    ]
    assert plain == []


def test_the_sidebar_lists_hrs_sections_and_each_one_opens(hr_client):
    body = hr_client.get(reverse("admin:index")).content.decode()
    links = _sidebar_links(body)
    for url_name in (
        "admin:index",
        "admin:shop_user_changelist",
        "admin:points_pointstransaction_changelist",
        "admin:points_grantrequest_changelist",
        "admin:catalog_product_changelist",
        "admin:orders_order_changelist",
        "hr_reports",
        "admin:notifications_notification_changelist",
    ):
        assert reverse(url_name) in links, url_name
    for link in set(links):
        assert hr_client.get(link).status_code == 200, link


def test_the_sidebar_leaves_out_what_the_user_may_not_open(staff_without_group):
    body = staff_without_group.get(reverse("admin:index")).content.decode()
    links = _sidebar_links(body)
    assert reverse("admin:index") in links
    assert reverse("admin:shop_user_changelist") not in links
    assert reverse("hr_reports") not in links
    assert staff_without_group.get(reverse("hr_reports")).status_code == 403


def test_the_back_offices_own_stylesheet_is_served_on_its_pages(hr_client, client):
    body = hr_client.get(reverse("hr_reports")).content.decode()
    (href,) = re.findall(r'href="([^"]*hr/back-office\.css)"', body)
    assert client.get(href).status_code == 200


def test_admin_pages_name_the_shops_icon_so_browsers_do_not_ask_for_favicon_ico(hr_client, client):
    # Without a <link rel="icon">, every browser fetches /favicon.ico: a 404 in the console.
    for body in (
        client.get(reverse("admin:login")).content.decode(),
        hr_client.get(reverse("admin:index")).content.decode(),
    ):
        (href,) = re.findall(
            r'<link rel="icon" href="([^"]*storefront/icon[^"]*\.svg)" type="image/svg\+xml"', body
        )
        assert client.get(href).status_code == 200
