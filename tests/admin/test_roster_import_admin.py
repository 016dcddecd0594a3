"""The roster CSV import: preview, confirm, all rows or none, leavers deactivated only when asked."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from points.models import PointsAccount
from shop.identity.roster import RosterImportRefused, roster_import_confirm, roster_import_stage
from shop.identity.services import users_deactivate
from shop.models import Department, PendingRosterImport, User

URL = reverse("admin:shop_user_roster_import")
HEADER = "email,name,employee_id,department\n"


def upload(client, text: str, *, leavers: bool = False, name: str = "roster.csv"):
    data = {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")}
    if leavers:
        data["deactivate_leavers"] = "on"
    return client.post(URL, data)


def token_of(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "no confirm form on the preview page"
    return match.group(1)


def snapshot() -> list[tuple]:
    return list(
        User.objects.order_by("email").values_list("email", "name", "employee_id", "department", "is_active")
    )


def test_preview_then_confirm_registers_and_updates(hr_client, hr_user, make_user):
    known = make_user(email="bo@example.com", name="Bo", employee_id="E-2", department="Sales")
    Department.objects.create(name="Finance")
    preview = upload(
        hr_client,
        HEADER + "Ana@Example.com,Ana Silva,E-1,Finance\nbo@example.com,Bo Lee,E-2,Sales\n",
    )
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "<strong>1</strong> to register" in body and "<strong>1</strong> to update" in body
    assert "name: “Bo” → “Bo Lee”" in body
    assert not User.objects.filter(email="ana@example.com").exists()  # the preview writes nothing
    done = hr_client.post(URL, {"token": token_of(preview), "confirm": "1"})
    assert done.status_code == 302
    ana = User.objects.get(email="ana@example.com")
    assert (ana.name, ana.employee_id, ana.department, ana.is_employee) == (
        "Ana Silva",
        "E-1",
        "Finance",
        True,
    )
    assert PointsAccount.objects.filter(user=ana).exists()
    known.refresh_from_db()
    assert known.name == "Bo Lee"
    assert LogEntry.objects.filter(object_id=str(ana.pk), user=hr_user, action_flag=1).exists()
    assert LogEntry.objects.filter(object_id=str(known.pk), user=hr_user, action_flag=2).exists()
    assert PendingRosterImport.objects.count() == 0
    # The token was used up: replaying it changes nothing.
    again = hr_client.post(URL, {"token": token_of(preview), "confirm": "1"}, follow=True)
    assert "already used" in again.content.decode()


def test_errors_are_listed_by_line_and_the_file_cannot_be_confirmed(hr_client, make_user):
    make_user(email="taken@example.com", employee_id="E-9")
    make_user(email="gone@example.com", employee_id="E-8", is_active=False)
    before = snapshot()
    preview = upload(
        hr_client,
        HEADER
        + "ok@example.com,Ok,E-1,\n"
        + "not-an-email,X,E-2,\n"
        + "new@example.com,,E-3,\n"
        + "other@example.com,Other,E-9,\n"
        + "ok@example.com,Again,E-4,\n"
        + "taken@example.com,Taken,E-5,\n"
        + "gone@example.com,Gone,E-8,\n"
        + "short@example.com,Short\n",
    )
    body = preview.content.decode()
    assert "line 3: &#x27;not-an-email&#x27; is not a valid email address." in body
    assert "line 4: The name is required." in body
    assert "line 5: The employee id E-9 is already registered." in body
    assert "line 6: ok@example.com is also on line 2" in body
    assert "line 7: taken@example.com is registered with employee id E-9, not E-5" in body
    assert "line 8: gone@example.com is deactivated" in body
    assert "line 9: expected 4 columns" in body
    assert 'name="token"' not in body
    assert PendingRosterImport.objects.count() == 0
    assert snapshot() == before


def test_back_office_accounts_in_the_file_are_left_as_they_are(hr_client, hr_user, superuser):
    preview = upload(
        hr_client, f"{hr_user.email},Someone Else,E-1,\n{superuser.email},Root,E-2,\nx@example.com,X,E-3,\n"
    )
    body = preview.content.decode()
    assert f"line 1: {hr_user.email} (an HR or administrator account) is left as it is" in body
    assert f"line 2: {superuser.email} (an HR or administrator account) is left as it is" in body
    assert hr_client.post(URL, {"token": token_of(preview), "confirm": "1"}).status_code == 302
    hr_user.refresh_from_db()
    superuser.refresh_from_db()
    assert (hr_user.name, hr_user.employee_id, superuser.name) == ("Hana HR", None, "Root")
    assert User.objects.filter(email="x@example.com").exists()


def test_leavers_are_deactivated_only_when_asked_and_listed_first(hr_client, hr_user, make_user):
    stay = make_user(email="stay@example.com", name="Stay", employee_id="E-1")
    leaver = make_user(email="leaver@example.com", name="Leaver", employee_id="E-2")
    ops = make_user(email="ops@example.com", is_employee=False)  # not on the roster: never a leaver
    row = "stay@example.com,Stay,E-1,\n"
    kept = upload(hr_client, row).content.decode()
    assert "<strong>0</strong> to deactivate (leavers are kept" in kept
    preview = upload(hr_client, row, leavers=True)
    body = preview.content.decode()
    assert "<strong>1</strong> to deactivate" in body
    leavers_table = body.split('id="roster-leavers"')[1].split("</table>")[0]
    assert "leaver@example.com" in leavers_table
    assert "stay@example.com" not in leavers_table and hr_user.email not in leavers_table
    assert hr_client.post(URL, {"token": token_of(preview), "confirm": "1"}).status_code == 302
    for user in (stay, leaver, ops, hr_user):
        user.refresh_from_db()
    assert (stay.is_active, leaver.is_active, ops.is_active, hr_user.is_active) == (True, False, True, True)
    assert LogEntry.objects.filter(
        object_id=str(leaver.pk), change_message__contains="not in the roster"
    ).exists()


def test_confirm_refuses_when_the_leavers_changed_since_the_preview(hr_user, make_user):
    make_user(email="stay@example.com", employee_id="E-1")
    staged = roster_import_stage(
        content=b"stay@example.com,Stay,E-1,\n", filename="r.csv", staged_by=hr_user, deactivate_leavers=True
    )
    assert staged.plan.leavers == []
    make_user(email="hired-since@example.com", employee_id="E-2")  # would now be deactivated unseen
    before = snapshot()
    with pytest.raises(RosterImportRefused, match="changed since the preview"):
        roster_import_confirm(token=staged.token, confirmed_by=hr_user)
    assert snapshot() == before


def test_confirm_rechecks_every_row_and_applies_none_when_one_fails(hr_user, make_user):
    staged = roster_import_stage(
        content=(HEADER + "a@example.com,A,E-1,\nb@example.com,B,E-2,\n").encode(),
        filename="r.csv",
        staged_by=hr_user,
    )
    assert staged.token
    make_user(email="b@example.com", employee_id="E-7")  # registered by someone else meanwhile
    with pytest.raises(RosterImportRefused, match="no longer passes its checks"):
        roster_import_confirm(token=staged.token, confirmed_by=hr_user)
    assert not User.objects.filter(email="a@example.com").exists()


def test_a_token_from_someone_else_or_tampered_is_refused(hr_user, make_user):
    other = make_user(email="other-hr@example.com", is_staff=True)
    staged = roster_import_stage(content=b"a@example.com,A,E-1,\n", filename="r.csv", staged_by=hr_user)
    with pytest.raises(RosterImportRefused, match="already used or has expired"):
        roster_import_confirm(token=staged.token, confirmed_by=other)
    with pytest.raises(RosterImportRefused, match="not valid"):
        roster_import_confirm(token=staged.token + "x", confirmed_by=hr_user)
    assert not User.objects.filter(email="a@example.com").exists()


def test_staff_without_the_right_to_add_employees_cannot_import(staff_without_group):
    assert staff_without_group.get(URL).status_code == 403


def test_changelist_links_the_import(hr_client, make_user):
    assert "Import roster from CSV" in hr_client.get(reverse("admin:shop_user_changelist")).content.decode()


def test_a_large_roster_previews_with_a_bounded_number_of_queries(
    hr_client, make_user, django_assert_max_num_queries
):
    for i in range(20):
        make_user(email=f"known{i}@example.com", name=f"Known {i}", employee_id=f"K-{i}")
    Department.objects.create(name="Dept")
    rows = "".join(f"new{i}@example.com,Person {i},N-{i},Dept\n" for i in range(1000))
    rows += "".join(f"known{i}@example.com,Renamed {i},K-{i},Dept\n" for i in range(20))
    # Bulk lookups only: the count does not grow with the rows (session, user, the lookups,
    # HR's departments, the leavers, the stored upload).
    with django_assert_max_num_queries(10):
        preview = upload(hr_client, HEADER + rows, leavers=True)
    assert preview.status_code == 200
    assert "<strong>1000</strong> to register" in preview.content.decode()


def test_the_add_form_registers_with_department_and_requires_the_employee_id(hr_client):
    add = reverse("admin:shop_user_add")
    Department.objects.create(name="Legal")
    missing = hr_client.post(add, {"email": "dee@example.com", "name": "Dee"})
    assert missing.status_code == 200 and not User.objects.filter(email="dee@example.com").exists()
    done = hr_client.post(
        add, {"email": "dee@example.com", "name": "Dee", "employee_id": "D-1", "department": "Legal"}
    )
    assert done.status_code == 302
    dee = User.objects.get(email="dee@example.com")
    assert (dee.employee_id, dee.department, dee.is_employee) == ("D-1", "Legal", True)


def test_deactivated_leavers_keep_points_and_can_be_reactivated_in_the_admin(super_client, make_user):
    user = make_user(email="back@example.com", points=30)
    users_deactivate(users=[user])
    change = reverse("admin:shop_user_change", args=[user.pk])
    form = {
        "email": user.email,
        "name": user.name,
        "employee_id": user.employee_id,
        "department": "",
        "is_active": "on",
        "is_employee": "on",
    }
    response = super_client.post(change, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.is_active
    assert PointsAccount.objects.get(user=user).balance == 30
