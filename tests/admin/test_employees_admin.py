"""The employees admin: list, search, filters, registration, grants, adjustments, deactivation."""

from __future__ import annotations

import re
from secrets import token_urlsafe

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from points.models import GrantBatch, PointsAccount, PointsTransaction
from shop.models import User
from tests.factories import UserFactory

CHANGELIST = reverse("admin:shop_user_changelist")


def balance(user: User) -> int:
    return PointsAccount.objects.get(user=user).balance


def test_changelist_shows_balance_and_totals(hr_client, make_user):
    make_user(email="ana@example.com", name="Ana Silva", points=700)
    response = hr_client.get(CHANGELIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert "ana@example.com" in body and "700" in body
    assert "Grant points to all active employees" in body


@pytest.mark.parametrize("query", ["ana@example", "Silva", "E-77"])
def test_search_by_email_name_or_employee_id(hr_client, make_user, query):
    make_user(email="ana@example.com", name="Ana Silva", employee_id="E-77")
    make_user(email="bo@example.com", name="Bo Lee", employee_id="E-88")
    cl = hr_client.get(CHANGELIST, {"q": query}).context["cl"]
    assert [u.email for u in cl.result_list] == ["ana@example.com"]


def test_filters_active_and_has_balance(hr_client, make_user):
    make_user(email="rich@example.com", points=10)
    make_user(email="poor@example.com")
    make_user(email="gone@example.com", points=5, is_active=False)
    cl = hr_client.get(CHANGELIST, {"has_balance": "yes", "is_active__exact": "1"}).context["cl"]
    assert [u.email for u in cl.result_list] == ["rich@example.com"]
    cl = hr_client.get(CHANGELIST, {"has_balance": "no"}).context["cl"]
    assert "poor@example.com" in {u.email for u in cl.result_list}
    assert "rich@example.com" not in {u.email for u in cl.result_list}


def test_changelist_query_count_does_not_grow_with_rows(hr_client, django_assert_max_num_queries):
    for _ in range(30):
        UserFactory(points=5)
    with django_assert_max_num_queries(10):
        assert hr_client.get(CHANGELIST).status_code == 200


def test_last_points_activity_is_the_latest_ledger_entry_and_empty_without_one(hr_client, make_user):
    make_user(email="never@example.com")
    active = make_user(email="active@example.com", points=5)
    PointsAccount.objects.filter(user__email="never@example.com").update(updated_at=timezone.now())
    response = hr_client.get(CHANGELIST, {"o": "7"})  # sorted by the column itself
    rows = {u.email: u for u in response.context["cl"].result_list}
    assert rows["never@example.com"].last_entry_at is None
    latest = PointsTransaction.objects.filter(account_id=active.pk).latest("created_at").created_at
    assert rows["active@example.com"].last_entry_at == latest
    body = response.content.decode()
    never_row = body.split("never@example.com", 1)[1].split("</tr>", 1)[0]
    assert re.search(r'class="field-last_activity[^"]*"[^>]*>-<', never_row), never_row


def test_hr_registers_an_employee_with_a_points_account(hr_client, hr_user):
    response = hr_client.post(
        reverse("admin:shop_user_add"),
        {"email": "New.Person@Example.com", "name": "New Person", "employee_id": "E-100"},
    )
    assert response.status_code == 302, response.content
    user = User.objects.get(email="new.person@example.com")
    assert user.employee_id == "E-100" and not user.has_usable_password() and not user.is_staff
    assert PointsAccount.objects.get(user=user).balance == 0
    assert LogEntry.objects.filter(object_id=str(user.pk), user=hr_user, action_flag=1).exists()


def test_registering_a_duplicate_email_is_refused(hr_client, make_user):
    make_user(email="ana@example.com")
    response = hr_client.post(
        reverse("admin:shop_user_add"), {"email": "ANA@example.com", "name": "Ana", "employee_id": "E-9"}
    )
    assert response.status_code == 200
    assert "ana@example.com is already registered" in response.content.decode()
    assert User.objects.filter(email="ana@example.com").count() == 1


def test_detail_page_shows_ledger_and_orders_read_only(hr_client, make_user, product):
    from orders.services import order_place

    user = make_user(points=1000)
    order_place(user=user, product_id=product.pk)
    body = hr_client.get(reverse("admin:shop_user_change", args=[user.pk])).content.decode()
    assert "test grant" in body and "Earbuds" in body
    assert "Grant points" in body and "Adjust / deduct points" in body
    # HR never sees the access fields.
    for field in ('name="is_superuser"', 'name="groups"', 'name="user_permissions"', 'name="is_staff"'):
        assert field not in body


def test_grant_to_one_employee(hr_client, hr_user, make_user):
    user = make_user(points=100)
    url = reverse("admin:shop_user_grant", args=[user.pk])
    assert hr_client.get(url).status_code == 200
    response = hr_client.post(url, {"amount": "250", "reason": "Spot award", "submission": token_urlsafe(32)})
    assert response.status_code == 302
    assert balance(user) == 350
    entry = PointsTransaction.objects.filter(account_id=user.pk).first()
    assert (entry.type, entry.amount, entry.description, entry.created_by) == (
        "earned",
        250,
        "Spot award",
        hr_user,
    )
    log = LogEntry.objects.get(object_id=str(user.pk), user=hr_user)
    assert "Granted 250 points" in log.get_change_message()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "100", "reason": ""}, "This field is required"),
        ({"amount": "", "reason": "x"}, "This field is required"),
        ({"amount": "0", "reason": "x"}, "greater than or equal to 1"),
        ({"amount": "-5", "reason": "x"}, "greater than or equal to 1"),
        ({"amount": "1.5", "reason": "x"}, "Enter a whole number"),
    ],
)
def test_grant_requires_amount_and_reason(hr_client, make_user, data, message):
    user = make_user()
    response = hr_client.post(
        reverse("admin:shop_user_grant", args=[user.pk]), {**data, "submission": token_urlsafe(32)}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert balance(user) == 0


def test_adjust_deducts_with_a_reason(hr_client, hr_user, make_user):
    user = make_user(points=100)
    response = hr_client.post(
        reverse("admin:shop_user_adjust", args=[user.pk]),
        {"direction": "deduct", "amount": "40", "reason": "Duplicate award", "submission": token_urlsafe(32)},
    )
    assert response.status_code == 302
    assert balance(user) == 60
    entry = PointsTransaction.objects.filter(account_id=user.pk).first()
    assert (entry.type, entry.amount, entry.created_by) == ("adjusted", -40, hr_user)


def test_adjust_that_would_go_negative_is_refused_clearly(hr_client, make_user):
    user = make_user(points=30)
    response = hr_client.post(
        reverse("admin:shop_user_adjust", args=[user.pk]),
        {"direction": "deduct", "amount": "31", "reason": "Oops", "submission": token_urlsafe(32)},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Refused" in body and "has 30 points" in body and "Nothing was changed" in body
    assert balance(user) == 30
    assert PointsTransaction.objects.filter(account_id=user.pk).count() == 1


def test_grant_to_selected_shows_an_intermediate_form_then_grants(hr_client, hr_user, make_user):
    a, b, c = make_user(), make_user(), make_user()
    ids = [str(a.pk), str(b.pk)]
    page = hr_client.post(CHANGELIST, {"action": "grant_points_selected", "_selected_action": ids})
    assert page.status_code == 200
    assert "Grant to 2 employees" in page.content.decode()
    assert balance(a) == 0
    done = hr_client.post(
        CHANGELIST,
        {
            "action": "grant_points_selected",
            "_selected_action": ids,
            "apply": "1",
            "amount": "75",
            "reason": "Team win",
            "submission": token_urlsafe(32),
        },
    )
    assert done.status_code == 302
    assert (balance(a), balance(b), balance(c)) == (75, 75, 0)
    batch = GrantBatch.objects.get()
    assert batch.source == "selection" and batch.created_by == hr_user
    assert LogEntry.objects.filter(object_id=str(batch.pk), user=hr_user).exists()


def test_grant_to_selected_without_reason_grants_nothing(hr_client, make_user):
    a = make_user()
    response = hr_client.post(
        CHANGELIST,
        {"action": "grant_points_selected", "_selected_action": [str(a.pk)], "apply": "1", "amount": "75"},
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert balance(a) == 0


def test_grant_to_all_active_employees(hr_client, hr_user, make_user):
    active = [make_user(), make_user()]
    inactive = make_user(is_active=False)
    url = reverse("admin:shop_user_grant_all")
    assert "Grant to" in hr_client.get(url).content.decode()
    response = hr_client.post(
        url, {"amount": "20", "reason": "Holiday gift", "submission": token_urlsafe(32)}
    )
    assert response.status_code == 302
    assert all(balance(u) == 20 for u in active)
    assert balance(inactive) == 0
    # HR staff may be employees too, but nobody grants to themselves: another HR user does.
    assert balance(hr_user) == 0
    assert GrantBatch.objects.get().source == "all_active"


def test_deactivate_selected(hr_client, hr_user, make_user):
    user = make_user(points=10)
    response = hr_client.post(
        CHANGELIST, {"action": "deactivate_selected", "_selected_action": [str(user.pk)]}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active and balance(user) == 10
    assert LogEntry.objects.filter(
        object_id=str(user.pk), user=hr_user, change_message__contains="Deactivated"
    ).exists()


def test_hr_cannot_deactivate_or_edit_staff_accounts(hr_client, superuser):
    hr_client.post(CHANGELIST, {"action": "deactivate_selected", "_selected_action": [str(superuser.pk)]})
    superuser.refresh_from_db()
    assert superuser.is_active
    response = hr_client.post(
        reverse("admin:shop_user_change", args=[superuser.pk]), {"email": "x@example.com", "name": "x"}
    )
    assert response.status_code == 403
    password_url = reverse("admin:auth_user_password_change", args=[superuser.pk])
    assert hr_client.post(password_url, {"password1": "x" * 20, "password2": "x" * 20}).status_code == 403
    superuser.refresh_from_db()
    assert superuser.check_password("root-password-1")


def test_hr_cannot_make_anyone_superuser_or_change_groups(hr_client, hr_user, make_user):
    user = make_user()
    response = hr_client.post(
        reverse("admin:shop_user_change", args=[user.pk]),
        {
            "email": user.email,
            "name": "Renamed",
            "employee_id": user.employee_id,
            "is_active": "on",
            "is_superuser": "on",
            "is_staff": "on",
            "groups": [str(Group.objects.get(name="HR").pk)],
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.name == "Renamed"
    assert not user.is_superuser and not user.is_staff and not user.groups.exists()


def test_hr_cannot_change_own_permissions(hr_client, hr_user):
    response = hr_client.post(
        reverse("admin:shop_user_change", args=[hr_user.pk]),
        {"email": hr_user.email, "name": "x", "is_active": "on", "is_superuser": "on"},
    )
    assert response.status_code == 403
    hr_user.refresh_from_db()
    assert not hr_user.is_superuser


def test_superuser_sees_access_fields(super_client, make_user):
    user = make_user()
    body = super_client.get(reverse("admin:shop_user_change", args=[user.pk])).content.decode()
    assert 'name="is_superuser"' in body and 'name="groups"' in body


def test_staff_without_hr_role_cannot_grant(staff_without_group, make_user):
    user = make_user()
    response = staff_without_group.post(
        reverse("admin:shop_user_grant", args=[user.pk]),
        {"amount": "5", "reason": "x", "submission": token_urlsafe(32)},
    )
    assert response.status_code == 403
    assert balance(user) == 0
    assert staff_without_group.get(CHANGELIST).status_code == 403


def test_hr_cannot_delete_employees(hr_client, make_user):
    user = make_user()
    assert (
        hr_client.post(reverse("admin:shop_user_delete", args=[user.pk]), {"post": "yes"}).status_code == 403
    )
    assert User.objects.filter(pk=user.pk).exists()
