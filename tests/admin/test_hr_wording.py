"""What HR reads in the back office's lists and messages: grant batches say for whom, why and who
approved; counts agree with their nouns; no internal codes in help texts."""

from __future__ import annotations

from secrets import token_urlsafe

from django.urls import reverse

from points.models import GrantBatch, GrantRequest
from points.services.approvals import grant_request_approve, points_grant_bulk_or_request
from tests.support.hr import make_hr

BATCHES = reverse("admin:points_grantbatch_changelist")


def test_the_grant_batches_list_names_the_department_the_reason_and_the_approver(
    settings, hr_client, hr_user, make_user
):
    a, b = make_user(department="Sales"), make_user(department="Sales")
    hr_client.post(
        reverse("admin:shop_user_grant_department"),
        {
            "department": "Sales",
            "shown_for": "Sales",
            "amount": "15",
            "reason": "Q3 target",
            "submission": token_urlsafe(32),
        },
    )
    settings.GRANT_APPROVAL_THRESHOLD = 10
    request = points_grant_bulk_or_request(
        grants=[(a, 20, "Year end"), (b, 20, "Year end")], source="selection", requested_by=hr_user
    )
    assert isinstance(request, GrantRequest)
    approver = make_hr("approver@example.com")
    grant_request_approve(request_id=request.pk, approved_by=approver)
    page = hr_client.get(BATCHES).content.decode()
    assert "Department Sales" in page and "Q3 target" in page and "Year end" in page
    assert "Approved by" in page and "approver@example.com" in page
    assert str(GrantBatch.objects.get(source="department")) == "Department Sales (2 rows)"


def test_a_grant_to_one_selected_employee_says_employee_in_the_singular(hr_client, make_user):
    a = make_user()
    picked = {"action": "grant_points_selected", "_selected_action": [str(a.pk)]}
    page = hr_client.post(reverse("admin:shop_user_changelist"), picked).content.decode()
    assert "Grant to 1 employee" in page and "1 employees" not in page
    done = hr_client.post(
        reverse("admin:shop_user_changelist"),
        {**picked, "apply": "1", "amount": "4", "reason": "Thanks", "submission": token_urlsafe(32)},
        follow=True,
    ).content.decode()
    assert "Granted 4 points to 1 employee." in done and "1 employees" not in done


def test_the_grant_request_source_is_shown_in_words_not_codes(hr_client):
    help_text = GrantRequest._meta.get_field("source").help_text
    assert "all_active" not in help_text and "csv," not in help_text
    assert dict(GrantRequest._meta.get_field("source").choices)["all_active"] == "All active employees"


def test_an_employee_page_keeps_the_email_in_lower_case_in_its_header(hr_client, make_user):
    ana = make_user(email="ana.silva@example.com")
    page = hr_client.get(reverse("admin:shop_user_change", args=[ana.pk])).content.decode()
    assert "Ana.silva@example.com" not in page and "ana.silva@example.com" in page


def test_the_employee_list_opens_on_the_roster_with_department_and_role(hr_client, make_user, superuser):
    ana = make_user(email="ana.list@example.com", department="Sales")
    hr_only = make_hr("hr.only@example.com")
    page = hr_client.get(reverse("admin:shop_user_changelist"))
    shown = list(page.context["cl"].queryset)
    assert ana in shown and hr_only not in shown and superuser not in shown
    body = page.content.decode()
    assert "field-department" in body and "field-role" in body and ">Employee<" in body
    everyone = list(
        hr_client.get(reverse("admin:shop_user_changelist"), {"role": "all"}).context["cl"].queryset
    )
    assert {ana, hr_only, superuser} <= set(everyone)
    hr_list = list(
        hr_client.get(reverse("admin:shop_user_changelist"), {"role": "hr"}).context["cl"].queryset
    )
    assert hr_only in hr_list and ana not in hr_list


def test_dates_read_the_same_on_every_page(hr_client, hr_user, make_user):
    from django.utils import timezone

    from points.services.grants import points_grant

    ana = make_user()
    points_grant(user=ana, amount=5, reason="Thanks", granted_by=hr_user)
    today = timezone.localdate().isoformat()
    for url in (
        reverse("admin:points_pointstransaction_changelist"),
        reverse("admin:shop_user_change", args=[ana.pk]),
    ):
        page = hr_client.get(url).content.decode()
        assert today in page
        assert "a.m." not in page and "p.m." not in page
