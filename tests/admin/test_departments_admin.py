"""Departments in the employee admin: manager and location editable, filters, grant to a department."""

from __future__ import annotations

from secrets import token_urlsafe

from django.urls import reverse

from points.models import GrantBatch, GrantRequest, PointsAccount
from shop.models import Department, User

CHANGELIST = reverse("admin:shop_user_changelist")
GRANT_DEPARTMENT = reverse("admin:shop_user_grant_department")


def balance(user: User) -> int:
    return PointsAccount.objects.get(user=user).balance


def test_hr_edits_department_manager_and_location(hr_client, make_user):
    boss = make_user(department="Sales")
    employee = make_user(department="Sales")
    Department.objects.create(name="Marketing")
    url = reverse("admin:shop_user_change", args=[employee.pk])
    page = hr_client.get(url).content.decode()
    assert 'name="manager"' in page and 'name="location"' in page
    response = hr_client.post(
        url,
        {
            "email": employee.email,
            "name": employee.name,
            "employee_id": employee.employee_id,
            "department": "Marketing",
            "manager": str(boss.pk),
            "location": "Lisbon",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    employee.refresh_from_db()
    assert (employee.department, employee.manager, employee.location) == ("Marketing", boss, "Lisbon")
    assert list(boss.direct_reports.all()) == [employee]


def test_changelist_filters_by_department_and_location(hr_client, make_user):
    sales_lisbon = make_user(department="Sales", location="Lisbon")
    make_user(department="Sales", location="Berlin")
    make_user(department="Engineering", location="Lisbon")
    page = hr_client.get(CHANGELIST, {"department": "Sales", "location": "Lisbon"}).content.decode()
    assert sales_lisbon.email in page
    assert "?department=Engineering" in page  # the sidebar offers every department
    response = hr_client.get(CHANGELIST, {"department": "Sales", "location": "Lisbon"})
    assert list(response.context["cl"].queryset) == [sales_lisbon]


def test_grant_to_a_department_reaches_its_active_employees_only(hr_client, hr_user, make_user):
    hr_user.department = "Sales"
    hr_user.save(update_fields=["department"])
    members = [make_user(department="Sales"), make_user(department="Sales")]
    leaver = make_user(department="Sales", is_active=False)
    outsider = make_user(department="Engineering")
    page = hr_client.get(GRANT_DEPARTMENT, {"department": "Sales"}).content.decode()
    # The page says who is left out and why before anything moves.
    assert "2 active employees of Sales" in page
    assert f"{leaver.email}: deactivated" in page and f"{hr_user.email}: your own account" in page
    response = hr_client.post(
        GRANT_DEPARTMENT,
        {
            "department": "Sales",
            "shown_for": "Sales",
            "amount": "30",
            "reason": "Q3 target",
            "submission": token_urlsafe(32),
        },
    )
    assert response.status_code == 302
    assert [balance(u) for u in members] == [30, 30]
    assert balance(leaver) == balance(outsider) == balance(hr_user) == 0
    batch = GrantBatch.objects.get()
    assert (batch.source, batch.rows, batch.total_points) == ("department", 2, 60)
    # A declared choice, so the admin shows its label and its source filter offers it.
    assert batch.get_source_display() == "A department"
    batches = hr_client.get(reverse("admin:points_grantbatch_changelist")).content.decode()
    assert "A department" in batches


def test_grant_to_a_department_above_the_threshold_waits_for_approval(hr_client, make_user, settings):
    settings.GRANT_APPROVAL_THRESHOLD = 100
    members = [make_user(department="Sales") for _ in range(3)]
    response = hr_client.post(
        GRANT_DEPARTMENT,
        {
            "department": "Sales",
            "shown_for": "Sales",
            "amount": "50",
            "reason": "Bonus",
            "submission": token_urlsafe(32),
        },
    )
    assert response.status_code == 302
    request = GrantRequest.objects.get()
    assert (request.status, request.total_points) == (GrantRequest.Status.PENDING, 150)
    assert not GrantBatch.objects.exists()
    assert [balance(u) for u in members] == [0, 0, 0]


def test_grant_to_an_unknown_department_grants_nothing(hr_client, make_user):
    make_user(department="Sales")
    response = hr_client.post(
        GRANT_DEPARTMENT,
        {"department": "Nowhere", "amount": "5", "reason": "x", "submission": token_urlsafe(32)},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not GrantBatch.objects.exists()


def test_staff_without_hr_role_cannot_grant_to_a_department(staff_without_group, make_user):
    make_user(department="Sales")
    assert staff_without_group.get(GRANT_DEPARTMENT).status_code == 403


def test_the_previous_release_still_inserts_employees_on_the_new_schema(db):
    # Expand, release, contract: while a release rolls out, the previous one keeps inserting
    # users with only the columns it knows; the new ones must fill themselves in.
    new_columns = {"manager", "location"}
    fields = [f for f in User._meta.concrete_fields if f.name not in new_columns]
    old = User(email="old-release@example.com", name="Old", password="!")
    User._base_manager._insert([old], fields=fields)  # type: ignore[attr-defined]
    stored = User.objects.get(email="old-release@example.com")
    assert (stored.location, stored.manager) == ("", None)
