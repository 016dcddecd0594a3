"""The same grant or stock change sent again from a fresh page (the browser's Back re-fetches the
form, with a new one-time key, and restores the typed values; a second tab) moves nothing until
HR confirms the repeat, and the confirmation names the earlier change."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from catalog.models import Product, StockMovement
from catalog.services import product_stock_adjust
from points.models import GrantBatch, GrantRequest, PointsAccount, PointsTransaction
from points.services.grants import points_grant
from shop.admin_kit.repeats import RepeatNotConfirmed

GRANT_ALL = reverse("admin:shop_user_grant_all")
GRANT_DEPARTMENT = reverse("admin:shop_user_grant_department")
USERS = reverse("admin:shop_user_changelist")


def submission_of(response) -> str:
    match = re.search(r'name="submission" value="([^"]+)"', response.content.decode())
    assert match, "no one-time key on the form"
    return match.group(1)


def repeat_of(response) -> str:
    match = re.search(r'name="repeat_of" value="([^"]+)"', response.content.decode())
    assert match, "the page does not ask to confirm a repeat"
    return match.group(1)


def balance(user) -> int:
    return PointsAccount.objects.get(user=user).balance


def test_grant_to_all_sent_again_from_a_fresh_page_asks_and_names_the_earlier_grant(hr_client, make_user):
    a, b = make_user(), make_user()
    form = {"amount": "10", "reason": "Holiday gift"}
    hr_client.post(GRANT_ALL, {**form, "submission": submission_of(hr_client.get(GRANT_ALL))})
    # Back: the page is fetched again (a new key) and the browser restores amount and reason.
    again = hr_client.post(GRANT_ALL, {**form, "submission": submission_of(hr_client.get(GRANT_ALL))})
    page = again.content.decode()
    assert again.status_code == 200
    assert "The same change was already made" in page and "Nothing was changed this time" in page
    assert "10 points to 2 employees" in page and "hr@example.com" in page and "Holiday gift" in page
    assert "Yes, make this change a second time" in page
    assert GrantBatch.objects.count() == 1 and PointsTransaction.objects.count() == 2
    assert balance(a) == balance(b) == 10
    # Sent once more without ticking the box: still refused.
    unticked = hr_client.post(
        GRANT_ALL, {**form, "submission": submission_of(again), "repeat_of": repeat_of(again)}
    )
    assert "The same change was already made" in unticked.content.decode()
    assert GrantBatch.objects.count() == 1
    # HR ticks the box: the second grant is deliberate and goes through, once.
    confirmed = {
        **form,
        "submission": submission_of(again),
        "repeat_of": repeat_of(again),
        "confirm_repeat": "on",
    }
    assert hr_client.post(GRANT_ALL, confirmed).status_code == 302
    assert GrantBatch.objects.count() == 2 and balance(a) == balance(b) == 20


def test_a_confirmation_restored_by_the_browser_confirms_only_the_change_it_named(hr_client, make_user):
    a = make_user()
    form = {"amount": "10", "reason": "Gift"}
    hr_client.post(GRANT_ALL, {**form, "submission": submission_of(hr_client.get(GRANT_ALL))})
    asked = hr_client.post(GRANT_ALL, {**form, "submission": submission_of(hr_client.get(GRANT_ALL))})
    confirmed = {**form, "repeat_of": repeat_of(asked), "confirm_repeat": "on"}
    hr_client.post(GRANT_ALL, {**confirmed, "submission": submission_of(asked)})
    assert balance(a) == 20
    # Back to the confirmation page, box still ticked, with a fresh key: asked again, about the newer grant.
    again = hr_client.post(GRANT_ALL, {**confirmed, "submission": submission_of(hr_client.get(GRANT_ALL))})
    assert "The same change was already made" in again.content.decode()
    assert repeat_of(again) != confirmed["repeat_of"]
    assert balance(a) == 20 and GrantBatch.objects.count() == 2


def test_a_different_grant_or_one_after_the_window_needs_no_confirmation(settings, hr_client, make_user):
    a = make_user()
    hr_client.post(
        GRANT_ALL, {"amount": "10", "reason": "Gift", "submission": submission_of(hr_client.get(GRANT_ALL))}
    )
    hr_client.post(
        GRANT_ALL, {"amount": "10", "reason": "Other", "submission": submission_of(hr_client.get(GRANT_ALL))}
    )
    hr_client.post(
        GRANT_ALL, {"amount": "11", "reason": "Gift", "submission": submission_of(hr_client.get(GRANT_ALL))}
    )
    assert balance(a) == 31
    settings.REPEAT_WINDOW_MINUTES = 0
    hr_client.post(
        GRANT_ALL, {"amount": "10", "reason": "Gift", "submission": submission_of(hr_client.get(GRANT_ALL))}
    )
    assert balance(a) == 41


def test_a_single_grant_and_an_adjustment_sent_again_ask_first(hr_client, make_user):
    a = make_user(points=100)
    grant = reverse("admin:shop_user_grant", args=[a.pk])
    adjust = reverse("admin:shop_user_adjust", args=[a.pk])
    for _ in range(2):
        hr_client.post(
            grant, {"amount": "25", "reason": "Spot", "submission": submission_of(hr_client.get(grant))}
        )
    deduct = {"direction": "deduct", "amount": "7", "reason": "Mistake"}
    for _ in range(2):
        last = hr_client.post(adjust, {**deduct, "submission": submission_of(hr_client.get(adjust))})
    assert "-7 points adjusted to" in last.content.decode()
    assert balance(a) == 100 + 25 - 7


def test_a_department_grant_and_a_selection_sent_again_ask_first(hr_client, make_user):
    a, b = make_user(department="Sales"), make_user(department="Sales")
    form = {"department": "Sales", "shown_for": "Sales", "amount": "15", "reason": "Q3 target"}
    for _ in range(2):
        page = hr_client.get(GRANT_DEPARTMENT, {"department": "Sales"})
        last = hr_client.post(GRANT_DEPARTMENT, {**form, "submission": submission_of(page)})
    assert "the department Sales: 15 points to 2 employees" in last.content.decode()
    assert balance(a) == balance(b) == 15
    picked = {"action": "grant_points_selected", "_selected_action": [str(a.pk)]}
    for _ in range(2):
        key = submission_of(hr_client.post(USERS, picked))
        last = hr_client.post(
            USERS, {**picked, "apply": "1", "amount": "5", "reason": "Thanks", "submission": key}
        )
    assert "The same change was already made" in last.content.decode()
    assert balance(a) == 20


def test_a_request_above_the_threshold_sent_again_names_the_waiting_request(settings, hr_client, make_user):
    settings.GRANT_APPROVAL_THRESHOLD = 100
    make_user(), make_user()
    for _ in range(2):
        last = hr_client.post(
            GRANT_ALL,
            {"amount": "80", "reason": "Year end", "submission": submission_of(hr_client.get(GRANT_ALL))},
        )
    assert "a request for 160 points to 2 employees" in last.content.decode()
    assert "waiting for approval" in last.content.decode()
    assert GrantRequest.objects.count() == 1


def test_the_service_refuses_an_unconfirmed_repeat_and_commands_are_not_asked(hr_user, make_user):
    a = make_user()
    points_grant(user=a, amount=5, reason="Gift", granted_by=hr_user, confirm_repeat_of="")
    with pytest.raises(RepeatNotConfirmed) as refused:
        points_grant(user=a, amount=5, reason="Gift", granted_by=hr_user, confirm_repeat_of="")
    assert refused.value.earlier.token.startswith("entry:")
    points_grant(
        user=a, amount=5, reason="Gift", granted_by=hr_user, confirm_repeat_of=refused.value.earlier.token
    )
    points_grant(user=a, amount=5, reason="Gift", granted_by=hr_user)  # a script: not checked
    assert balance(a) == 15


# --- stock -------------------------------------------------------------------------------


@pytest.fixture
def product(db) -> Product:
    from catalog.models import Category

    category = Category.objects.create(name="Mugs", slug="mugs")
    return Product.objects.create(name="Mug", category=category, points_cost=10, stock=42)


def test_the_same_stock_change_sent_twice_adds_once_until_confirmed(hr_client, product):
    url = reverse("admin:catalog_product_stock", args=[product.pk])
    form = {"change": "10", "reason": "restock", "note": "Delivery 12"}
    assert hr_client.post(url, form).status_code == 302
    again = hr_client.post(url, form)  # a double click, a resend, Back and submit, a second tab
    page = again.content.decode()
    assert again.status_code == 200 and "The same change was already made" in page
    assert "+10 units of Mug" in page and "Delivery 12" in page and "hr@example.com" in page
    product.refresh_from_db()
    assert product.stock == 52 and StockMovement.objects.filter(product=product).count() == 1
    confirmed = {**form, "repeat_of": repeat_of(again), "confirm_repeat": "on"}
    assert hr_client.post(url, confirmed).status_code == 302
    assert hr_client.post(url, confirmed).status_code == 200  # the same confirmation again: asked again
    product.refresh_from_db()
    assert product.stock == 62
    hr_client.post(url, {"change": "5", "reason": "restock", "note": "Delivery 13"})
    product.refresh_from_db()
    assert product.stock == 67


def test_the_stock_service_refuses_an_unconfirmed_repeat(hr_user, product):
    move = product_stock_adjust(
        product_id=product.pk,
        delta=3,
        reason="correction",
        note="Found",
        changed_by=hr_user,
        confirm_repeat_of="",
    )
    with pytest.raises(RepeatNotConfirmed) as refused:
        product_stock_adjust(
            product_id=product.pk,
            delta=3,
            reason="correction",
            note="Found",
            changed_by=hr_user,
            confirm_repeat_of="",
        )
    assert refused.value.earlier.token == f"stock:{move.pk}"
    product.refresh_from_db()
    assert product.stock == 45
