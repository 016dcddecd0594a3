"""The visual fixes of the back office, in a real browser: demo products show their pictures,
and an unknown admin page is a page in the admin's look."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from catalog.models import Product
from shop.models import User
from tests.admin.browser_support import screenshot
from tests.support.hr import make_hr

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "hr-browser-pass-42"


@pytest.fixture
def hr(live_server: Any) -> User:
    user = make_hr("hana.fixes@example.com")
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def test_demo_products_show_thumbnails_and_a_lost_page_keeps_the_admin(page, live_server, hr):
    call_command("seed_demo", stdout=io.StringIO())
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", hr.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_selector("#hr-dashboard")

    page.goto(f"{live_server.url}/admin/catalog/product/")
    page.wait_for_selector("img.product-thumbnail")
    widths = page.eval_on_selector_all(
        "#result_list img.product-thumbnail", "imgs => imgs.map(img => img.complete ? img.naturalWidth : 0)"
    )
    assert len(widths) == Product.objects.count() and all(w > 0 for w in widths), widths
    screenshot(page, "fixes-01-demo-products-with-thumbnails")

    response = page.goto(f"{live_server.url}/admin/nonexistent/")
    assert response is not None and response.status == 404
    assert "AWSomeShop administration" in page.inner_text("#site-name")
    assert "Page not found" in page.inner_text("#content")
    page.click("text=Back to the administration home page")
    page.wait_for_selector("#hr-dashboard")
    screenshot(page, "fixes-02-admin-404")
