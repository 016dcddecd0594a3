"""The HR role, the dashboard on the admin index, and the create_hr_user command."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from orders.services import order_place
from points.models import GrantBatch
from points.selectors import points_flows_by_period
from points.services.grants import grant_recipients_all, points_grant_bulk
from shop.access.roles import HR_GROUP_NAME, HR_PERMISSIONS
from shop.models import User
from tests.factories import ProductFactory


def test_hr_group_has_exactly_the_listed_permissions(db):
    group = Group.objects.get(name=HR_GROUP_NAME)
    got = {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }
    assert got == set(HR_PERMISSIONS)
    assert not any(p.startswith("auth.") or "delete_pointstransaction" in p for p in got)


def test_hr_cannot_reach_groups_or_permissions(hr_client):
    assert hr_client.get(reverse("admin:auth_group_changelist")).status_code == 403


def test_dashboard_on_the_admin_index(hr_client, make_user, product):
    user = make_user(points=2000)
    order_place(user=user, product_id=product.pk, quantity=2)
    ProductFactory(name="Last Mug", stock=1)
    body = hr_client.get(reverse("admin:index")).content.decode()
    assert 'id="points-chart"' in body and "<svg" in body
    assert "Granted: 2,000" in body and "Redeemed: 600" in body
    assert "Earbuds" in body  # top product
    assert "Last Mug" in body  # low stock
    assert user.email in body  # unspent points


def test_dashboard_queries_are_bounded(hr_client, make_user, django_assert_max_num_queries):
    for i in range(15):
        u = make_user(points=1000)
        order_place(user=u, product_id=ProductFactory(name=f"P{i}", stock=2).pk)
    with django_assert_max_num_queries(14):
        hr_client.get(reverse("admin:index"))


def test_weekly_flows_fill_empty_weeks(db):
    flows = points_flows_by_period(period="week", start=date(2026, 2, 23), end=date(2026, 3, 18))
    assert [f.key for f in flows] == [
        date(2026, 2, 23),
        date(2026, 3, 2),
        date(2026, 3, 9),
        date(2026, 3, 16),
    ]
    assert all(f.granted == 0 and f.redeemed == 0 for f in flows)


def test_create_hr_user_command(db, monkeypatch, capsys):
    monkeypatch.setenv("HR_USER_PASSWORD", "a-Long-enough-pass-42")
    call_command("create_hr_user", "--email", "Boss@Example.com", "--name", "Boss")
    user = User.objects.get(email="boss@example.com")
    assert user.is_staff and not user.is_superuser
    assert user.groups.filter(name=HR_GROUP_NAME).exists()
    assert user.check_password("a-Long-enough-pass-42")
    assert hasattr(user, "points_account")
    assert "Created HR user boss@example.com" in capsys.readouterr().out


def test_a_new_hr_account_is_off_the_roster_unless_asked(db, monkeypatch, make_user):
    from points.models import PointsAccount

    monkeypatch.setenv("HR_USER_PASSWORD", "a-Long-enough-pass-42")
    call_command("create_hr_user", "--email", "ops-hr@example.com", "--name", "Ops HR")
    call_command("create_hr_user", "--email", "hr-and-staff@example.com", "--name", "Both", "--on-roster")
    employee = make_user()
    points_grant_bulk(
        grants=[(u, 10, "Everyone") for u in grant_recipients_all()], source=GrantBatch.Source.ALL_ACTIVE
    )
    balances = dict(PointsAccount.objects.values_list("user__email", "balance"))
    # "Grant to all" pays the roster: the employee and the HR person who is also on it.
    assert balances == {"ops-hr@example.com": 0, "hr-and-staff@example.com": 10, employee.email: 10}


def test_create_hr_user_refuses_a_weak_password(db):
    with pytest.raises(CommandError, match="Password refused"):
        call_command("create_hr_user", "--email", "a@example.com", "--name", "A", "--password", "123")
    assert not User.objects.filter(email="a@example.com").exists()


def test_created_hr_user_can_sign_in_to_the_admin(db, client):
    call_command(
        "create_hr_user", "--email", "hr2@example.com", "--name", "HR", "--password", "a-Long-enough-pass-42"
    )
    assert client.login(email="hr2@example.com", password="a-Long-enough-pass-42")
    assert client.get(reverse("admin:shop_user_changelist")).status_code == 200


def test_create_hr_user_without_a_terminal_or_password_says_what_to_do(tmp_path):
    # Run as a newcomer would in a script: no terminal, no password anywhere.
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "HR_USER_PASSWORD"}
    env.update(
        {"DJANGO_SETTINGS_MODULE": "awsomeshop.settings.test", "DATABASE_URL": f"sqlite:///{tmp_path}/db"}
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True)
    result = subprocess.run(
        [sys.executable, "manage.py", "create_hr_user", "--email", "hr@example.com", "--name", "HR"],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "No password given: use --password, HR_USER_PASSWORD or a terminal." in result.stderr
    assert "GetPassWarning" not in result.stderr
