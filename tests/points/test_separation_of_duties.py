"""Nobody moves points to their own account, and grants reach employees on the roster only:
enforced by the services, so the admin, the commands and anything later obey."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from orders.models import Order
from orders.services import order_place, order_refund
from points.models import GrantBatch, PointsAccount, PointsTransaction
from points.selectors import LEFT_OUT_NOT_EMPLOYEE, LEFT_OUT_OWN, grant_recipients_split
from points.services.checks import NotOnRoster
from points.services.grant_files import grant_plan_from_csv
from points.services.grants import grant_recipients_all, points_adjust, points_grant, points_grant_bulk
from shop.http.errors import OwnAccountRefused
from shop.models import User
from tests.support.hr import make_hr

pytestmark = pytest.mark.django_db


def balance(user) -> int:
    return PointsAccount.objects.get(user=user).balance


@pytest.fixture
def superuser(db):
    # An operations account: off the roster, holds and receives no points.
    return User.objects.create_superuser("root@example.com", "root-password-1", name="Root")


@pytest.fixture
def hr(db):
    # An HR person who is also an employee: may hold points, never grant them to themselves.
    return make_hr("hana@example.com", is_employee=True)


def test_grant_to_own_account_is_refused_and_changes_nothing(hr):
    with pytest.raises(OwnAccountRefused, match="cannot grant points to their own account"):
        points_grant(user=hr, amount=1_000_000, reason="me", granted_by=hr)
    assert balance(hr) == 0
    assert PointsTransaction.objects.count() == 0


@pytest.mark.parametrize("amount", [500, -5])
def test_adjusting_own_account_is_refused_either_way(hr, amount):
    other = make_hr("other@example.com")
    points_grant(user=hr, amount=10, reason="from a colleague", granted_by=other)
    with pytest.raises(OwnAccountRefused):
        points_adjust(user=hr, amount=amount, reason="me", adjusted_by=hr)
    assert balance(hr) == 10
    # Someone else may adjust it.
    points_adjust(user=hr, amount=amount, reason="correction", adjusted_by=other)
    assert balance(hr) == 10 + amount


def test_refunding_own_order_is_refused(hr, product):
    other = make_hr("other@example.com")
    points_grant(user=hr, amount=1000, reason="award", granted_by=other)
    order = order_place(user=hr, product_id=product.pk)
    with pytest.raises(OwnAccountRefused, match="refund an order to their own account"):
        order_refund(order_id=order.pk, refunded_by=hr, reason="me")
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    assert balance(hr) == 1000 - product.points_cost
    order_refund(order_id=order.pk, refunded_by=other, reason="broken")
    assert balance(hr) == 1000


def test_bulk_grant_including_oneself_is_refused_entirely(hr, make_user):
    a = make_user()
    with pytest.raises(OwnAccountRefused):
        points_grant_bulk(grants=[(a, 10, "x"), (hr, 10, "x")], source="selection", granted_by=hr)
    assert balance(a) == 0 and GrantBatch.objects.count() == 0


def test_grants_reach_active_employees_on_the_roster_only(hr, make_user, superuser):
    hr_only = make_hr("hronly@example.com", is_employee=False)
    leaver = make_user(is_active=False)
    for target in (hr_only, superuser, leaver):
        with pytest.raises(NotOnRoster):
            points_grant(user=target, amount=10, reason="x", granted_by=hr)
        with pytest.raises(NotOnRoster):
            points_grant_bulk(grants=[(target, 10, "x")], source=GrantBatch.Source.SELECTION, granted_by=hr)
        assert balance(target) == 0
    # Adding points by an adjustment is a grant too.
    with pytest.raises(NotOnRoster):
        points_adjust(user=hr_only, amount=5, reason="x", adjusted_by=hr)


def test_grant_to_all_pays_employees_only_and_never_the_granter(hr, make_user, superuser):
    a, b = make_user(), make_user()
    hr_only = make_hr("hronly@example.com", is_employee=False)
    make_user(is_active=False)
    everyone = grant_recipients_all(acting=hr)
    batch = points_grant_bulk(
        grants=[(u, 7, "Holiday") for u in everyone], source=GrantBatch.Source.ALL_ACTIVE, granted_by=hr
    )
    assert batch.rows == 2
    assert balance(a) == balance(b) == 7
    assert balance(hr) == balance(hr_only) == balance(superuser) == 0


def test_csv_plan_leaves_out_oneself_and_accounts_off_the_roster(hr, make_user, superuser):
    a = make_user()
    plan = grant_plan_from_csv(
        f"{a.email},10,Award\n{hr.email},10,Award\n{superuser.email},10,Award\n".encode(), acting=hr
    )
    assert plan.ok, plan.errors
    assert [r.email for r in plan.rows] == [a.email]
    assert plan.left_out == [(2, hr.email, LEFT_OUT_OWN), (3, superuser.email, LEFT_OUT_NOT_EMPLOYEE)]


def test_an_hr_only_account_is_left_out_as_off_the_roster_even_when_it_is_ones_own(make_user):
    # Not "another HR user must grant it": no HR user can, as the account holds no points.
    hr_only = make_hr("henri@example.com")
    a = make_user()
    plan = grant_plan_from_csv(f"{a.email},10,Award\n{hr_only.email},10,Award\n".encode(), acting=hr_only)
    assert plan.left_out == [(2, hr_only.email, LEFT_OUT_NOT_EMPLOYEE)]
    _, left_out = grant_recipients_split(users=[a, hr_only], acting=hr_only)
    assert left_out == [(hr_only, LEFT_OUT_NOT_EMPLOYEE)]


def test_csv_plan_with_only_left_out_rows_has_nothing_to_grant(hr):
    plan = grant_plan_from_csv(f"{hr.email},10,Award\n".encode(), acting=hr)
    assert not plan.ok
    assert "nothing to grant" in plan.errors[0]


# --- management commands obey too ------------------------------------------------------------


def test_grant_points_command_refuses_a_grant_to_the_requester(hr):
    with pytest.raises(CommandError, match="own account"):
        call_command(
            "grant_points",
            "--email",
            hr.email,
            "--amount",
            "10",
            "--reason",
            "me",
            "--requested-by",
            hr.email,
        )
    assert balance(hr) == 0


def test_grant_points_all_active_leaves_out_non_employees(hr, make_user, superuser, capsys):
    a = make_user()
    call_command("grant_points", "--all-active", "--amount", "5", "--reason", "x")
    assert "to 2 active employees" in capsys.readouterr().out  # a and the HR employee, not root
    assert balance(a) == balance(hr) == 5 and balance(superuser) == 0


def test_grant_points_command_refuses_a_non_employee(superuser):
    with pytest.raises(CommandError, match="active employees on the roster only"):
        call_command("grant_points", "--email", superuser.email, "--amount", "10", "--reason", "x")


def test_requested_by_must_be_an_hr_user(make_user):
    a, b = make_user(), make_user()
    with pytest.raises(CommandError, match="no active HR user"):
        call_command(
            "grant_points", "--email", a.email, "--amount", "10", "--reason", "x", "--requested-by", b.email
        )
    assert balance(a) == 0


def test_import_points_lists_left_out_rows(hr, make_user, superuser, tmp_path, capsys):
    a = make_user()
    path = tmp_path / "g.csv"
    path.write_text(f"{a.email},10,Award\n{hr.email},10,Award\n{superuser.email},10,Award\n")
    call_command("import_points", str(path), "--requested-by", hr.email)
    captured = capsys.readouterr()
    assert f"line 2: {hr.email} left out: {LEFT_OUT_OWN}" in captured.err
    assert f"line 3: {superuser.email} left out: {LEFT_OUT_NOT_EMPLOYEE}" in captured.err
    assert "Imported 1 rows, 10 points" in captured.out
    assert balance(a) == 10 and balance(hr) == 0 and balance(superuser) == 0
