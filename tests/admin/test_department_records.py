"""Departments as records HR manages: the Departments page, employees pick from it, the roster
import refuses unknown ones unless HR ticks "create", renames keep reports whole, near-duplicates
from the free-text days are listed and merged."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse
from django.utils import timezone

from backoffice.reports import ReportParams, report_departments
from points.services.grants import points_grant
from shop.db.migration_safety import check_migration
from shop.identity.departments import department_near_duplicates
from shop.models import Department, User

DEPARTMENTS = reverse("admin:shop_department_changelist")
ROSTER = reverse("admin:shop_user_roster_import")
HEADER = "email,name,employee_id,department\n"


def upload(client, text: str, *, leavers: bool = False):
    data = {"file": SimpleUploadedFile("roster.csv", text.encode(), content_type="text/csv")}
    if leavers:
        data["deactivate_leavers"] = "on"
    return client.post(ROSTER, data)


def token_of(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "no confirm form on the preview page"
    return match.group(1)


def test_the_migration_makes_records_of_the_free_text_and_lists_near_duplicates(db, make_user):
    make_user(department="Sales")
    User.objects.create(email="x1@example.com", name="X", department="sales ")
    User.objects.create(email="x2@example.com", name="Y", department="Customer  Success")
    User.objects.create(email="x3@example.com", name="Z", department="Customer Success")
    Department.objects.all().delete()
    migration = importlib.import_module("shop.migrations.0006_departments")
    migration.departments_from_free_text(apps, None)
    migration.departments_from_free_text(apps, None)  # run twice: nothing more
    assert sorted(Department.objects.values_list("name", flat=True)) == [
        "Customer  Success",
        "Customer Success",
        "Sales",
        "sales ",
    ]
    groups = [sorted(d.name for d in g) for g in department_near_duplicates()]
    assert sorted(groups) == [["Customer  Success", "Customer Success"], ["Sales", "sales "]]


def test_the_departments_migration_is_an_expand_step(db):
    loader = MigrationLoader(None, ignore_no_migrations=True)
    node = ("shop", "0006_departments")
    findings = check_migration(loader.graph.nodes[node], loader.project_state(node, at_end=False))
    assert findings == []


def test_hr_adds_a_department_and_a_near_duplicate_is_refused(hr_client, make_user):
    boss = make_user()
    add = reverse("admin:shop_department_add")
    done = hr_client.post(
        add, {"name": " Field  Sales ", "manager": str(boss.pk), "location": "Porto", "is_active": "on"}
    )
    assert done.status_code == 302
    department = Department.objects.get()
    assert (department.name, department.manager, department.location) == ("Field Sales", boss, "Porto")
    again = hr_client.post(add, {"name": "field sales", "is_active": "on"})
    assert "There is already a department named" in again.content.decode()
    page = hr_client.get(DEPARTMENTS).content.decode()
    assert "Field Sales" in page and "Porto" in page


def test_the_list_shows_near_duplicates_and_merging_moves_their_employees(hr_client, make_user):
    a, b = make_user(department="Sales"), make_user(department="Sales")
    c = User.objects.create(email="c@example.com", name="C", department="sales ")
    Department.objects.create(name="sales ")
    page = hr_client.get(DEPARTMENTS).content.decode()
    assert 'id="near-duplicates"' in page and "“sales ”" in page
    ids = [str(pk) for pk in Department.objects.order_by("name").values_list("pk", flat=True)]
    # Exact spelling, compared in Python: MariaDB's collation finds "sales " for "Sales" too.
    keep = next(d for d in Department.objects.all() if d.name == "Sales")
    pick = {"action": "merge_selected", "_selected_action": ids}
    form = hr_client.post(DEPARTMENTS, pick)
    assert "Merge departments" in form.content.decode()
    hr_client.post(DEPARTMENTS, {**pick, "apply": "1", "keep": str(keep.pk)})
    assert list(Department.objects.values_list("name", flat=True)) == ["Sales"]
    assert {u.department for u in User.objects.filter(pk__in=[a.pk, b.pk, c.pk])} == {"Sales"}
    assert 'id="near-duplicates"' not in hr_client.get(DEPARTMENTS).content.decode()
    assert LogEntry.objects.filter(object_id=str(keep.pk), change_message__contains="Merged sales ").exists()


def test_renaming_moves_the_employees_and_the_reports_keep_the_history(hr_client, hr_user, make_user):
    a = make_user(department="Sales")
    points_grant(user=a, amount=40, reason="Before the rename", granted_by=hr_user)
    department = Department.objects.get(name="Sales")
    change = reverse("admin:shop_department_change", args=[department.pk])
    done = hr_client.post(change, {"name": "Sales & Partners", "location": "", "is_active": "on"})
    assert done.status_code == 302
    a.refresh_from_db()
    assert a.department == "Sales & Partners"
    history = hr_client.get(reverse("admin:shop_department_history", args=[department.pk])).content.decode()
    assert "Renamed from “Sales” to “Sales &amp; Partners”" in history
    today = timezone.localdate()
    table = report_departments(ReportParams(today - timedelta(days=1), today, "", "month"))
    assert [(row[0], row[1]) for row in table.rows] == [("Sales & Partners", 40)]


def test_employees_pick_their_department_from_the_list(hr_client, make_user):
    Department.objects.create(name="Legal")
    Department.objects.create(name="Closed", is_active=False)
    page = hr_client.get(reverse("admin:shop_user_add")).content.decode()
    assert re.search(r'<select[^>]+name="department"', page)
    assert '<option value="Legal">Legal</option>' in page and "Closed (inactive)" in page
    typo = hr_client.post(
        reverse("admin:shop_user_add"),
        {"email": "t@example.com", "name": "T", "employee_id": "T-1", "department": "Legl"},
    )
    assert typo.status_code == 200 and not User.objects.filter(email="t@example.com").exists()
    grant_page = hr_client.get(reverse("admin:shop_user_grant_department")).content.decode()
    assert '<option value="Legal">' in grant_page and "Closed" not in grant_page


def test_the_roster_refuses_unknown_departments_unless_hr_ticks_create(hr_client, make_user):
    make_user(department="Sales")
    preview = upload(hr_client, HEADER + "ana@example.com,Ana,E-1,SALES \nli@example.com,Li,E-2,Salse\n")
    body = preview.content.decode()
    assert 'id="roster-unknown-departments"' in body and "“Salse”: line 3" in body
    assert 'name="create_departments"' in body and "required" in body
    refused = hr_client.post(ROSTER, {"token": token_of(preview), "confirm": "1"}, follow=True)
    assert "departments that do not exist: Salse" in refused.content.decode()
    assert not User.objects.filter(email__in=["ana@example.com", "li@example.com"]).exists()
    preview = upload(hr_client, HEADER + "ana@example.com,Ana,E-1,SALES \nli@example.com,Li,E-2,Salse\n")
    done = hr_client.post(
        ROSTER, {"token": token_of(preview), "confirm": "1", "create_departments": "1"}, follow=True
    )
    assert "Departments created: Salse" in done.content.decode()
    # A known department in another case or spacing is HR's spelling, not a new one.
    assert User.objects.get(email="ana@example.com").department == "Sales"
    assert sorted(Department.objects.values_list("name", flat=True)) == ["Sales", "Salse"]


def test_a_roster_with_problems_still_counts_leavers_and_lists_problems_in_line_order(hr_client, make_user):
    make_user(email="stays@example.com", employee_id="S-1")
    leavers = [make_user(email=f"leaver{i}@example.com") for i in range(3)]
    text = (
        HEADER
        + "stays@example.com,Stays,S-1,\n"
        + "new@example.com,New,N-1,\n"
        + "bad-email,Bad,B-1,\n"
        + "new@example.com,New again,N-2,\n"
        + ",No email,X-1,\n"
    )
    preview = upload(hr_client, text, leavers=True)
    body = preview.content.decode()
    assert "<strong>3</strong> to deactivate" in body
    assert all(u.email in body for u in leavers)
    new_table = re.search(r'<table id="roster-new">.*?</table>', body, re.S)
    assert (
        new_table
        and new_table.group(0).count("new@example.com") == 1
        and "New again" not in new_table.group(0)
    )
    problems = re.findall(
        r"<li>line (\d+):", re.search(r'id="roster-errors">(.*?)</ul>', body, re.S).group(1)
    )
    assert [int(n) for n in problems] == sorted(int(n) for n in problems) and len(problems) >= 3


def test_a_department_picked_in_the_list_shows_whom_it_reaches_before_granting(hr_client, hr_user, make_user):
    from secrets import token_urlsafe

    from points.models import GrantBatch

    hr_user.department = "Sales"
    hr_user.save(update_fields=["department"])
    members = [make_user(department="Sales")]
    leaver = make_user(department="Sales", is_active=False)
    grant = reverse("admin:shop_user_grant_department")
    page = hr_client.get(grant).content.decode()
    assert "Show whom it reaches" in page
    form = {"department": "Sales", "amount": "4", "reason": "Q3", "submission": token_urlsafe(32)}
    shown = hr_client.post(grant, form)
    body = shown.content.decode()
    # The first press only shows the count and who is left out; nothing is granted yet.
    assert shown.status_code == 200 and not GrantBatch.objects.exists()
    assert (
        "1 active employee of Sales gets the same amount" in body and f"{leaver.email}: deactivated" in body
    )
    assert f"{hr_user.email}: your own account" in body and "Grant to 1 employee" in body
    assert 'name="shown_for" value="Sales"' in body
    done = hr_client.post(grant, {**form, "shown_for": "Sales"}, follow=True)
    assert GrantBatch.objects.count() == 1
    # One employee, in the singular.
    assert "Granted 4 points to 1 employee of Sales (4 points)." in done.content.decode()
    members[0].points_account.refresh_from_db()
    assert members[0].points_account.balance == 4


def test_register_employee_takes_hr_spelling_and_refuses_an_unknown_department(db):
    import pytest

    from shop.identity.services import EmployeeInvalid, employee_register

    Department.objects.create(name="Customer Success")
    user = employee_register(
        email="cs@example.com", name="C S", employee_id="CS-1", department=" customer  success "
    )
    assert user.department == "Customer Success"
    with pytest.raises(EmployeeInvalid, match="There is no department named 'Custmer Success'"):
        employee_register(
            email="cs2@example.com", name="C T", employee_id="CS-2", department="Custmer Success"
        )
    assert not User.objects.filter(email="cs2@example.com").exists()
