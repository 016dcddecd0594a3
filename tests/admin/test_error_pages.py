"""The back office answers its errors with pages in the admin's look; the API keeps JSON."""

from __future__ import annotations

import re

from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from points.models import PointsTransaction
from shop.http.errors import handler500


def assert_admin_page(response, status: int, text: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "AWSomeShop administration" in body and text in body
    assert 'href="/admin/"' in body  # the way back
    assert '"code"' not in body


def test_a_forbidden_admin_page_is_an_html_page_in_the_admins_look(hr_client, make_user):
    entry = PointsTransaction.objects.get(account_id=make_user(points=10).pk)
    response = hr_client.get(reverse("admin:points_pointstransaction_delete", args=[entry.pk]))
    assert_admin_page(response, 403, "Your account may not do this")
    body = response.content.decode()
    assert 'id="nav-sidebar"' in body and 'id="logout-form"' in body  # still signed in, with the menu


def test_an_unknown_admin_page_is_an_html_404(hr_client):
    assert_admin_page(hr_client.get("/admin/nonexistent/"), 404, "Page not found")
    assert_admin_page(hr_client.get("/admin/points/nosuchmodel/"), 404, "Page not found")


def test_a_crash_under_admin_is_an_html_page_without_touching_the_database():
    request = RequestFactory().get("/admin/points/")
    response = handler500(request)
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")
    assert "nothing was changed" in response.content.decode()


def test_the_api_keeps_json_errors(api):
    for path in ("/api/v1/nonexistent/", "/api/nonexistent/"):
        response = Client().get(path)
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "detail": "Not found."}
    # Everything outside /api/ and /admin/ is the employee storefront's: its own HTML page.
    for path in ("/nonexistent/", "/administrator/"):
        response = Client().get(path)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")
        assert 'id="error-page"' in response.content.decode()
    crash = handler500(RequestFactory().get("/api/v1/orders/"))
    assert crash.status_code == 500 and crash["Content-Type"] == "application/json"


def test_view_site_leads_to_the_employee_storefront_not_the_api_docs(hr_client):
    # "View site" and "Return to site" are for HR going to the shop employees use: the
    # storefront's pages, served at the site's root.
    assert admin.site.site_url == "/"
    body = hr_client.get(reverse("admin:index")).content.decode()
    assert "/api/docs/" not in body
    assert re.search(r'<a[^>]+href="/"[^>]*>', body), "no link to the storefront"
