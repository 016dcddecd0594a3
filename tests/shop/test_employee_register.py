"""Registering employees: the one service behind the admin form, the roster import and the command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from points.models import PointsAccount
from shop.auth.local_issuer import get_local_issuer
from shop.identity.services import EmployeeInvalid, employee_register
from shop.models import Department, IdentitySync, User


def _counts() -> tuple[int, int, int]:
    return User.objects.count(), PointsAccount.objects.count(), IdentitySync.objects.count()


def test_register_puts_the_person_on_the_roster_with_an_account(db):
    Department.objects.create(name="Finance")
    user = employee_register(
        email=" Ana.Silva@Example.com ", name=" Ana Silva ", employee_id=" E-1 ", department="Finance"
    )
    user.refresh_from_db()
    assert (user.email, user.name, user.employee_id, user.department) == (
        "ana.silva@example.com",
        "Ana Silva",
        "E-1",
        "Finance",
    )
    assert user.is_employee and user.is_active and not user.is_staff
    assert not user.has_usable_password()
    assert PointsAccount.objects.get(user=user).balance == 0
    # No Cognito pool configured: nothing to sync.
    assert IdentitySync.objects.count() == 0


def test_a_registered_employee_can_sign_in_under_roster_provisioning(anon, db):
    employee_register(email="ana@example.com", name="Ana", employee_id="E-1")
    token = get_local_issuer().issue(email="ana@example.com", sub="ana-sub")
    response = anon.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert User.objects.get(email="ana@example.com").cognito_sub == "ana-sub"


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "is not a valid email address"),
        ({"name": "  "}, "name", "The name is required"),
        ({"name": "x" * 201}, "name", "longer than 200"),
        ({"employee_id": ""}, "employee_id", "The employee id is required"),
        ({"employee_id": "E" * 65}, "employee_id", "longer than 64"),
        ({"department": "d" * 101}, "department", "longer than 100"),
        ({"email": "TAKEN@example.com"}, "email", "taken@example.com is already registered"),
        ({"employee_id": "E-TAKEN"}, "employee_id", "E-TAKEN is already registered"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(make_user, kwargs, field, message):
    make_user(email="taken@example.com", employee_id="E-TAKEN")
    before = _counts()
    with pytest.raises(EmployeeInvalid) as refused:
        employee_register(**{"email": "new@example.com", "name": "New", "employee_id": "E-NEW", **kwargs})
    assert message in " ".join(refused.value.fields[field])
    assert refused.value.code == "validation_error"
    assert _counts() == before


def test_register_employee_command(db):
    Department.objects.create(name="Engineering")
    out = StringIO()
    call_command(
        "register_employee",
        "--email",
        "li.wei@example.com",
        "--name",
        "Li Wei",
        "--employee-id",
        "E-2002",
        "--department",
        "Engineering",
        stdout=out,
    )
    assert "Registered li.wei@example.com (E-2002)." in out.getvalue()
    user = User.objects.get(email="li.wei@example.com")
    assert (user.name, user.department, user.is_employee) == ("Li Wei", "Engineering", True)


def test_register_employee_command_refuses_bad_input_and_changes_nothing(make_user):
    make_user(email="taken@example.com", employee_id="E-1")
    before = _counts()
    with pytest.raises(
        CommandError, match=r"Not registered, nothing changed: email: taken@example\.com is already"
    ):
        call_command(
            "register_employee", "--email", "taken@example.com", "--name", "X", "--employee-id", "E-2"
        )
    with pytest.raises(CommandError, match="employee_id: The employee id E-1 is already registered"):
        call_command("register_employee", "--email", "new@example.com", "--name", "X", "--employee-id", "E-1")
    assert _counts() == before


def test_register_employee_command_requires_the_employee_id(db):
    with pytest.raises(CommandError, match="--employee-id"):
        call_command("register_employee", "--email", "a@example.com", "--name", "A")
    assert not User.objects.exists()


def test_registering_many_at_once_checks_each_and_writes_all_or_none(make_user):
    from shop.identity.services import EmployeeData, employees_register

    make_user(email="taken@example.com", employee_id="E-TAKEN")
    before = _counts()
    rows = [
        EmployeeData(email="a@example.com", name="A", employee_id="E-A"),
        EmployeeData(email="b@example.com", name="B", employee_id="E-TAKEN"),
        EmployeeData(email="A@example.com", name="A again", employee_id="E-A2"),
        EmployeeData(email="c@example.com", name="", employee_id="E-C"),
    ]
    with pytest.raises(EmployeeInvalid) as refused:
        employees_register(employees=rows)
    assert refused.value.fields == {
        "b@example.com": ["The employee id E-TAKEN is already registered."],
        "a@example.com": ["a@example.com is already registered."],
        "c@example.com": ["The name is required."],
    }
    assert _counts() == before


def test_registering_many_at_once_reads_twice_and_writes_in_batches(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shop.identity.services import EmployeeData, employees_register

    rows = [EmployeeData(email=f"p{i}@example.com", name=f"P {i}", employee_id=f"P-{i}") for i in range(400)]
    with CaptureQueriesContext(connection) as captured:
        users = employees_register(employees=rows)
    statements = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    # Two lookups for the uniqueness checks, then bulk inserts: nothing per person. SQLite
    # caps the parameters of one statement, so it takes more (smaller) insert batches.
    user_batch = min(500, connection.ops.bulk_batch_size([f for f in User._meta.concrete_fields], users))
    # The account's primary key is the user's id, written like any other column.
    account_batch = connection.ops.bulk_batch_size(list(PointsAccount._meta.concrete_fields), users)
    assert statements.count("SELECT") == 2
    assert statements.count("INSERT") <= -(-400 // user_batch) + -(-400 // account_batch)
    assert set(statements) <= {"SELECT", "INSERT", "SAVEPOINT", "RELEASE"}
    assert PointsAccount.objects.filter(user__email__startswith="p").count() == 400
    assert all(
        u.is_employee and not u.has_usable_password() for u in User.objects.filter(email__startswith="p")
    )
