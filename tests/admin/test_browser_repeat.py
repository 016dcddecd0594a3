"""Back and submit again, in a real browser: a grant to everyone and a stock change move points
or stock once; the repeat is applied only when HR ticks the box naming the earlier one."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import Category, Product, StockMovement
from points.models import GrantBatch, PointsAccount
from shop.models import User
from tests.admin.browser_support import screenshot
from tests.support.hr import make_hr

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "hr-browser-pass-42"


@pytest.fixture
def hr(live_server: Any) -> User:
    user = make_hr("hana.repeat@example.com")
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def sign_in(page: Any, live_server: Any, hr: User) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", hr.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_selector("#hr-dashboard")


def fill_if_not_restored(page: Any, values: dict[str, str]) -> None:
    # Chromium restores typed values on Back when it can; where it does not, HR types the same again.
    for name, value in values.items():
        if page.input_value(f"[name={name}]") != value:
            page.fill(f"[name={name}]", value)


def test_back_and_grant_again_grants_once_until_hr_confirms(page, live_server, hr, make_user):
    employees = [make_user() for _ in range(3)]
    sign_in(page, live_server, hr)
    page.goto(f"{live_server.url}/admin/shop/user/grant-all/")
    values = {"amount": "10", "reason": "Holiday gift"}
    fill_if_not_restored(page, values)
    page.click("input[name=apply]")
    page.wait_for_selector("#result_list")
    assert GrantBatch.objects.count() == 1

    page.go_back()
    page.wait_for_selector("input[name=amount]")
    fill_if_not_restored(page, values)
    page.click("input[name=apply]")
    page.wait_for_selector("text=The same change was already made")
    assert "Holiday gift" in page.inner_text("#content")
    screenshot(page, "repeat-01-grant-again-asks")
    assert GrantBatch.objects.count() == 1
    assert all(PointsAccount.objects.get(user=u).balance == 10 for u in employees)

    page.check("input[name=confirm_repeat]")
    page.click("input[name=apply]")
    page.wait_for_selector("#result_list")
    assert GrantBatch.objects.count() == 2
    # A second tab with the same grant: asked again, now about the newer batch.
    tab = page.context.new_page()
    tab.goto(f"{live_server.url}/admin/shop/user/grant-all/")
    fill_if_not_restored(tab, values)
    tab.click("input[name=apply]")
    tab.wait_for_selector("text=The same change was already made")
    assert GrantBatch.objects.count() == 2
    assert all(PointsAccount.objects.get(user=u).balance == 20 for u in employees)


def test_back_and_change_stock_again_changes_it_once(page, live_server, hr):
    product = Product.objects.create(
        name="Travel mug",
        category=Category.objects.create(name="Mugs", slug="mugs"),
        points_cost=50,
        stock=42,
    )
    sign_in(page, live_server, hr)
    page.goto(f"{live_server.url}/admin/catalog/product/{product.pk}/stock/")
    values = {"change": "5", "note": "Delivery 7"}
    fill_if_not_restored(page, values)
    page.click("input[name=apply]")
    page.wait_for_selector("text=Stock of Travel mug is now 47")

    page.go_back()
    page.wait_for_selector("input[name=change]")
    fill_if_not_restored(page, values)
    page.click("input[name=apply]")
    page.wait_for_selector("text=The same change was already made")
    screenshot(page, "repeat-02-stock-again-asks")
    product.refresh_from_db()
    assert product.stock == 47 and StockMovement.objects.filter(product=product).count() == 1


def test_importing_the_same_grants_file_again_needs_the_box_ticked_first(
    page, live_server, hr, make_user, tmp_path
):
    ana = make_user(email="ana.again@example.com")
    grants = tmp_path / "grants.csv"
    grants.write_text("email,amount,reason\nana.again@example.com,30,Referral bonus\n")
    sign_in(page, live_server, hr)
    for _ in range(2):
        page.goto(f"{live_server.url}/admin/points/pointstransaction/import/")
        page.set_input_files("input[name=file]", str(grants))
        page.click("#content [type=submit]")
        page.wait_for_selector("#import-preview")
        if page.locator("#id_allow_duplicate").count():
            break
        page.click("#confirm-import")
        page.wait_for_selector("#result_list")
    # The second upload of the same file: Confirm is greyed out until HR ticks the box.
    assert page.is_disabled("#confirm-import")
    screenshot(page, "repeat-03-csv-again-confirm-disabled")
    page.check("#id_allow_duplicate")
    assert page.is_enabled("#confirm-import")
    page.click("#confirm-import")
    page.wait_for_selector("#result_list")
    assert PointsAccount.objects.get(user=ana).balance == 60
