"""The back office under separation of duties: no buttons for one's own account (with the
reason instead), bulk grants that list who is left out, and grant requests that a second HR
user approves or rejects with a note."""

from __future__ import annotations

import re
from secrets import token_urlsafe

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from orders.models import Order
from orders.services import order_place
from points.models import GrantRequest, PointsAccount, PointsTransaction
from points.services.approvals import grant_request_approve, points_grant_bulk_or_request
from shop.models import User
from tests.support.hr import make_hr

USERS = reverse("admin:shop_user_changelist")
REQUESTS = reverse("admin:points_grantrequest_changelist")
IMPORT = reverse("admin:points_pointstransaction_import")


def balance(user: User) -> int:
    return PointsAccount.objects.get(user=user).balance


@pytest.fixture
def threshold(settings):
    settings.GRANT_APPROVAL_THRESHOLD = 1000
    return 1000


@pytest.fixture
def other_hr(db) -> User:
    return make_hr("olga.hr@example.com")


@pytest.fixture
def other_client(other_hr: User) -> Client:
    client = Client()
    client.force_login(other_hr)
    return client


# --- one's own account --------------------------------------------------------------------


def test_own_employee_page_explains_instead_of_offering_grant_buttons(hr_client, hr_user, make_user):
    own = hr_client.get(reverse("admin:shop_user_change", args=[hr_user.pk])).content.decode()
    assert 'id="own-account-note"' in own and "another HR user must do it" in own
    assert reverse("admin:shop_user_grant", args=[hr_user.pk]) not in own
    assert reverse("admin:shop_user_adjust", args=[hr_user.pk]) not in own
    colleague = make_user()
    page = hr_client.get(reverse("admin:shop_user_change", args=[colleague.pk])).content.decode()
    assert reverse("admin:shop_user_grant", args=[colleague.pk]) in page
    assert "own-account-note" not in page


def test_granting_or_adjusting_oneself_by_url_is_refused(hr_client, hr_user):
    for name, data in (
        ("admin:shop_user_grant", {"amount": "1000000", "reason": "me"}),
        (
            "admin:shop_user_adjust",
            {"direction": "add", "amount": "500", "reason": "me", "submission": token_urlsafe(32)},
        ),
    ):
        response = hr_client.post(reverse(name, args=[hr_user.pk]), data, follow=True)
        body = response.content.decode()
        assert "nobody grants or adjusts their own points" in body
        # Said once, by the page's own note, not a second time in a message above it.
        assert 'id="own-account-note"' in body and "messagelist" not in body
    assert balance(hr_user) == 0 and PointsTransaction.objects.count() == 0


def test_account_off_the_roster_has_no_grant_button(super_client, superuser):
    hr_only = make_hr("hronly@example.com")
    page = super_client.get(reverse("admin:shop_user_change", args=[hr_only.pk])).content.decode()
    assert 'id="not-recipient-note"' in page
    assert reverse("admin:shop_user_grant", args=[hr_only.pk]) not in page


def test_own_order_cannot_be_refunded_from_the_admin(hr_client, hr_user, other_hr, product):
    from points.services.grants import points_grant

    points_grant(user=hr_user, amount=1000, reason="award", granted_by=other_hr)
    order = order_place(user=hr_user, product_id=product.pk)
    page = hr_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert 'id="own-order-note"' in page
    assert reverse("admin:orders_order_refund", args=[order.pk]) not in page
    response = hr_client.post(
        reverse("admin:orders_order_refund", args=[order.pk]), {"reason": "me"}, follow=True
    )
    assert response.content.decode().count("another HR user must refund it") == 1
    bulk = hr_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "refund_selected", "_selected_action": [str(order.pk)], "apply": "1", "reason": "me"},
        follow=True,
    )
    assert "another HR user must refund it" in bulk.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED and balance(hr_user) == 1000 - product.points_cost


# --- bulk grants: who is left out and why ----------------------------------------------------


def test_grant_to_selection_leaves_out_oneself_and_non_employees(hr_client, hr_user, make_user, superuser):
    a = make_user()
    leaver = make_user(is_active=False)
    hr_only = make_hr("hronly@example.com")
    selected = [str(u.pk) for u in (a, hr_user, leaver, hr_only)]
    # Selected in the list of all accounts (the list opens on the roster only).
    page = hr_client.post(
        USERS + "?role=all", {"action": "grant_points_selected", "_selected_action": selected}
    )
    body = page.content.decode()
    assert 'id="left-out"' in body and "Left out (3)" in body
    assert f"{hr_user.email}: your own account" in body
    assert f"{leaver.email}: deactivated" in body
    assert f"{hr_only.email}: not on the employee roster" in body
    assert "Grant to 1 employee" in body
    done = hr_client.post(
        USERS + "?role=all",
        {
            "action": "grant_points_selected",
            "_selected_action": selected,
            "apply": "1",
            "amount": "30",
            "reason": "Thanks",
            "submission": token_urlsafe(32),
        },
        follow=True,
    )
    assert "Granted 30 points to 1 employee. Left out:" in done.content.decode()
    assert balance(a) == 30 and balance(hr_user) == balance(leaver) == balance(hr_only) == 0


def test_grant_to_all_page_lists_who_is_left_out(hr_client, hr_user, make_user, superuser):
    make_user()
    body = hr_client.get(reverse("admin:shop_user_grant_all")).content.decode()
    assert "Grant to 1 employee" in body
    assert f"{hr_user.email}: your own account" in body
    assert f"{superuser.email}: not on the employee roster" in body


def test_csv_preview_lists_left_out_rows(hr_client, hr_user, make_user, superuser):
    a = make_user()
    text = f"{a.email},10,Award\n{hr_user.email},10,Award\n{superuser.email},10,Award\n"
    preview = hr_client.post(
        IMPORT, {"file": SimpleUploadedFile("g.csv", text.encode(), content_type="text/csv")}
    )
    body = preview.content.decode()
    assert 'id="import-left-out"' in body
    assert f"line 2: {hr_user.email}: your own account" in body
    assert f"line 3: {superuser.email}: not on the employee roster" in body
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    hr_client.post(IMPORT, {"token": token, "confirm": "1"})
    assert balance(a) == 10 and balance(hr_user) == balance(superuser) == 0


# --- four eyes in the admin ---------------------------------------------------------------


def test_large_grant_in_the_admin_becomes_a_request_another_hr_user_approves(
    threshold, hr_client, hr_user, other_client, other_hr, make_user
):
    a = make_user()
    response = hr_client.post(
        reverse("admin:shop_user_grant", args=[a.pk]),
        {"amount": "5000", "reason": "Patent award", "submission": token_urlsafe(32)},
        follow=True,
    )
    assert "the request waits for another HR user" in response.content.decode()
    request = GrantRequest.objects.get()
    assert balance(a) == 0
    # The requester sees why there is no approve button, and approving by URL is refused.
    own = hr_client.get(reverse("admin:points_grantrequest_change", args=[request.pk])).content.decode()
    assert 'id="own-request-note"' in own and 'id="approve-link"' not in own
    refused = hr_client.post(
        reverse("admin:points_grantrequest_approve", args=[request.pk]), {"note": ""}, follow=True
    )
    assert "another HR user must approve it" in refused.content.decode()
    assert balance(a) == 0
    # A colleague approves.
    page = other_client.get(reverse("admin:points_grantrequest_change", args=[request.pk])).content.decode()
    assert 'id="approve-link"' in page and a.email in page
    done = other_client.post(
        reverse("admin:points_grantrequest_approve", args=[request.pk]), {"note": "Checked"}, follow=True
    )
    assert "Approved: 5,000 points to 1 employee are applied." in done.content.decode()
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.note) == ("approved", other_hr, "Checked")
    assert balance(a) == 5000
    again = other_client.post(
        reverse("admin:points_grantrequest_approve", args=[request.pk]), {}, follow=True
    )
    assert "already approved" in again.content.decode()
    assert balance(a) == 5000


def test_rejecting_in_the_admin_needs_a_note(threshold, hr_client, other_client, make_user):
    a = make_user()
    hr_client.post(
        reverse("admin:shop_user_grant", args=[a.pk]),
        {"amount": "5000", "reason": "x", "submission": token_urlsafe(32)},
    )
    request = GrantRequest.objects.get()
    url = reverse("admin:points_grantrequest_reject", args=[request.pk])
    empty = other_client.post(url, {"note": ""})
    # The form comes back with the error beside the note, not the request page with a banner.
    assert empty.status_code == 200 and 'name="note"' in empty.content.decode()
    assert empty.content.decode().count("Say why the request is rejected") == 1
    other_client.post(url, {"note": "No budget left"})
    request.refresh_from_db()
    assert (request.status, request.note) == ("rejected", "No budget left")
    assert balance(a) == 0


def test_large_grant_to_all_and_csv_become_requests(threshold, hr_client, make_user):
    users = [make_user() for _ in range(3)]
    hr_client.post(
        reverse("admin:shop_user_grant_all"),
        {"amount": "400", "reason": "Year end", "submission": token_urlsafe(32)},
    )
    text = "".join(f"{u.email},400,Award\n" for u in users)
    preview = hr_client.post(
        IMPORT, {"file": SimpleUploadedFile("big.csv", text.encode(), content_type="text/csv")}
    )
    body = preview.content.decode()
    assert 'id="needs-approval"' in body
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    hr_client.post(IMPORT, {"token": token, "confirm": "1"})
    assert sorted(GrantRequest.objects.values_list("source", "total_points")) == [
        ("all_active", 1200),
        ("csv", 1200),
    ]
    assert all(balance(u) == 0 for u in users)


def test_staff_without_the_grant_permission_cannot_decide(threshold, staff_without_group, hr_user, make_user):
    pending = points_grant_bulk_or_request(
        grants=[(make_user(), 5000, "x")], source="selection", requested_by=hr_user
    )
    url = reverse("admin:points_grantrequest_approve", args=[pending.pk])
    assert staff_without_group.post(url, {"note": ""}).status_code == 403
    assert GrantRequest.objects.get().status == "pending"


def test_pending_requests_on_the_dashboard(threshold, hr_client, hr_user, other_client, make_user):
    a = make_user()
    points_grant_bulk_or_request(grants=[(a, 5000, "Award")], source="selection", requested_by=hr_user)
    body = other_client.get(reverse("admin:index")).content.decode()
    assert (
        'id="pending-approvals"' in body
        and "<strong>1</strong> grant request above the approval threshold waits" in body
    )
    assert hr_user.email in body


# --- query counts --------------------------------------------------------------------------


def _many_requests(requester: User, approver: User, make_user, n: int = 30) -> list[GrantRequest]:
    users = [make_user() for _ in range(3)]
    made = [
        points_grant_bulk_or_request(
            grants=[(u, 500 + i, "Award") for u in users], source="selection", requested_by=requester
        )
        for i in range(n)
    ]
    for r in made[: n // 2]:
        grant_request_approve(request_id=r.pk, approved_by=approver)
    return made


def test_request_pages_and_dashboard_query_counts_do_not_grow(
    threshold, hr_client, hr_user, other_hr, make_user, django_assert_max_num_queries
):
    # At most these counts on SQLite, MariaDB and PostgreSQL, whatever the number of requests: session,
    # user, permissions, then the page's own grouped reads.
    made = _many_requests(hr_user, other_hr, make_user)
    with django_assert_max_num_queries(8):
        response = hr_client.get(REQUESTS)
    assert len(response.context["cl"].result_list) == 30
    with django_assert_max_num_queries(8):
        hr_client.get(REQUESTS, {"status__exact": "pending", "kind__exact": "bulk"})
    with django_assert_max_num_queries(8):
        hr_client.get(reverse("admin:points_grantrequest_change", args=[made[0].pk]))
    with django_assert_max_num_queries(6):
        hr_client.get(reverse("admin:points_grantrequest_change", args=[made[-1].pk]))
    with django_assert_max_num_queries(6):
        hr_client.get(reverse("admin:points_grantrequest_approve", args=[made[-1].pk]))
    with django_assert_max_num_queries(13):  # two for pending requests, one for the department filter
        hr_client.get(reverse("admin:index"))


def test_approval_through_the_admin_query_count(
    threshold, hr_user, other_client, make_user, django_assert_max_num_queries
):
    users = [make_user() for _ in range(20)]
    pending = points_grant_bulk_or_request(
        grants=[(u, 100, "Award") for u in users], source="selection", requested_by=hr_user
    )
    url = reverse("admin:points_grantrequest_approve", args=[pending.pk])
    # Lock the request, read recipients, permissions, batch, lock accounts, bulk writes, mark it
    # approved, the admin log: at most 20 on every engine (19-20 measured), not one per recipient.
    with django_assert_max_num_queries(20):
        other_client.post(url, {"note": "ok"})
    assert GrantRequest.objects.get().status == "approved"
    assert sum(balance(u) for u in users) == 2000


@pytest.mark.parametrize("employees", [5, 40])
def test_bulk_grant_pages_with_left_out_lists_query_counts_do_not_grow(
    hr_client, hr_user, make_user, employees, django_assert_max_num_queries
):
    users = [make_user() for _ in range(employees)]
    for i in range(3):
        make_hr(f"hronly{i}@example.com")
    with django_assert_max_num_queries(6):
        body = hr_client.get(reverse("admin:shop_user_grant_all")).content.decode()
    assert "Left out (4)" in body
    selected = [str(u.pk) for u in users] + [str(hr_user.pk)]
    # 8: the employees list also counts failed Cognito syncs for its warning.
    with django_assert_max_num_queries(8):
        body = hr_client.post(
            USERS, {"action": "grant_points_selected", "_selected_action": selected}
        ).content.decode()
    assert "Left out (1)" in body and f"Grant to {employees} employees" in body
