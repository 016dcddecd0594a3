"""HR's day in a real browser: sign in, register, grant, upload an image, refund, dashboard.

Runs headless Chromium against pytest-django's live_server; screenshots are saved under
artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission

from catalog.models import Product
from orders.models import Order
from orders.services import order_place
from points.models import PointsAccount
from shop.access.roles import HR_GROUP_NAME, HR_PERMISSIONS
from shop.identity.services import user_create
from shop.models import User
from tests.admin.browser_support import screenshot
from tests.admin.conftest import make_image_bytes
from tests.factories import CategoryFactory, ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "hr-browser-pass-42"


def _hr_group() -> Group:
    # Transactional tests flush the database after each test, and with it the group the data
    # migration made; rebuild it from the same list (a separate test checks the migration).
    group, _ = Group.objects.get_or_create(name=HR_GROUP_NAME)
    perms = [
        Permission.objects.get(content_type__app_label=name.split(".")[0], codename=name.split(".")[1])
        for name in HR_PERMISSIONS
    ]
    group.permissions.set(perms)
    return group


@pytest.fixture
def hr(live_server: Any) -> User:
    user = user_create(email="hana.hr@example.com", name="Hana HR", password=PASSWORD, is_staff=True)
    user.groups.add(_hr_group())
    return user


def sign_in(page: Any, live_server: Any, user: User) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_selector("#hr-dashboard")


def test_hr_signs_in_registers_an_employee_and_grants_points(page, live_server, hr):
    sign_in(page, live_server, hr)
    page.get_by_role("link", name="Employees", exact=True).first.click()
    page.wait_for_url("**/admin/shop/user/")
    page.click("a.addlink")
    page.fill("input[name=email]", "ana.silva@example.com")
    page.fill("input[name=name]", "Ana Silva")
    page.fill("input[name=employee_id]", "E-1001")
    screenshot(page, "01-register-employee")
    page.click("[name=_save]")
    page.wait_for_selector("ul.messagelist")
    ana = User.objects.get(email="ana.silva@example.com")
    assert PointsAccount.objects.get(user=ana).balance == 0

    page.goto(f"{live_server.url}/admin/shop/user/{ana.pk}/change/")
    page.click("text=Grant points")
    page.fill("input[name=amount]", "500")
    page.fill("input[name=reason]", "Welcome bonus")
    page.click("input[name=apply]")
    page.wait_for_selector("ul.messagelist")
    assert "Granted 500 points" in page.inner_text("ul.messagelist")
    assert "Welcome bonus" in page.inner_text("body")
    screenshot(page, "02-employee-after-grant")
    assert PointsAccount.objects.get(user=ana).balance == 500

    # A deduction larger than the balance is refused on the page, with the reason.
    page.click("text=Adjust / deduct points")
    page.fill("input[name=amount]", "600")
    page.fill("input[name=reason]", "Too much")
    page.click("input[name=apply]")
    assert "would make the balance negative" in page.inner_text(".errornote")
    screenshot(page, "03-deduction-refused")
    assert PointsAccount.objects.get(user=ana).balance == 500


def test_hr_uploads_a_product_image_and_sees_the_thumbnail(page, live_server, hr, tmp_path):
    CategoryFactory(name="Tech", slug="tech")
    photo = tmp_path / "earbuds.jpg"
    photo.write_bytes(make_image_bytes("JPEG", (1600, 1200), noise=True, quality=95))
    sign_in(page, live_server, hr)
    page.goto(f"{live_server.url}/admin/catalog/product/add/")
    page.fill("input[name=name]", "Wireless earbuds")
    page.select_option("select[name=category]", label="Tech")
    page.fill("input[name=points_cost]", "300")
    page.fill("input[name=initial_stock]", "7")
    page.set_input_files("input[name=image_upload]", str(photo))
    page.click("[name=_save]")
    page.wait_for_selector("img.product-thumbnail")
    loaded = page.eval_on_selector("img.product-thumbnail", "img => img.complete && img.naturalWidth")
    assert loaded and loaded > 0
    screenshot(page, "04-products-with-thumbnail")
    product = Product.objects.get(name="Wireless earbuds")
    assert product.stock == 7 and product.thumbnail.name.endswith(".webp")

    page.click("#result_list a:has-text('Wireless earbuds')")
    page.wait_for_url("**/change/")
    page.wait_for_selector("img.product-thumbnail")
    assert page.eval_on_selector("img.product-thumbnail", "img => img.naturalWidth") > 0
    screenshot(page, "05-product-detail")


def test_hr_refunds_an_order(page, live_server, hr):
    employee = user_create(email="li.wei@example.com", name="Li Wei")
    from points.services.grants import points_grant

    points_grant(user=employee, amount=1000, reason="Award")
    product = ProductFactory(name="Coffee mug", points_cost=150, stock=3)
    order = order_place(user=employee, product_id=product.pk, quantity=2)
    sign_in(page, live_server, hr)
    page.goto(f"{live_server.url}/admin/orders/order/?q=mug")
    screenshot(page, "06-orders")
    page.click(f"#result_list a:has-text('{str(order.pk)[:8]}')")
    page.click("text=Refund this order")
    page.fill("input[name=reason]", "Arrived broken")
    page.click("input[name=apply]")
    page.wait_for_selector("ul.messagelist")
    assert "Refunded: 300 points" in page.inner_text("ul.messagelist")
    screenshot(page, "07-order-refunded")
    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert PointsAccount.objects.get(user=employee).balance == 1000
    assert Product.objects.get(pk=product.pk).stock == 3


def test_hr_opens_the_dashboard(page, live_server, hr):
    from points.services.grants import points_grant

    for i in range(4):
        user = user_create(email=f"e{i}@example.com", name=f"Employee {i}")
        points_grant(user=user, amount=400 + 100 * i, reason="Award")
        order_place(user=user, product_id=ProductFactory(name=f"Gift {i}", points_cost=100, stock=2 + i).pk)
    sign_in(page, live_server, hr)
    assert page.locator("#points-chart rect").count() >= 2
    assert re.search(r"Granted: 2,200", page.inner_text("#hr-dashboard"))
    assert "Gift 0" in page.inner_text("#low-stock")
    assert "e3@example.com" in page.inner_text("#unspent-points")
    screenshot(page, "08-dashboard")
