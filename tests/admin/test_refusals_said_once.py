"""Issue 22, item 15: a refusal is said once on the page HR lands on, not in a red banner and again
in a note or help text beside it. One test per page family: a repeated grant, adjustment, grant to
everyone and stock change (the refusal names the earlier change once), approving one's own request
(the request page's note), and a grants file imported a second time without consent (the preview's
note)."""

from __future__ import annotations

from django.urls import reverse

from catalog.models import Product
from points.models import GrantRequest, PointsAccount
from points.services.approvals import points_grant_or_request
from tests.admin.test_grant_import_admin import URL as IMPORT_URL
from tests.admin.test_grant_import_admin import token_of, upload
from tests.admin.test_repeat_confirm import submission_of

REPEAT = "The same change was already made"


def sent_twice(client, url: str, form: dict[str, str]) -> str:
    """The same form sent again from a freshly fetched page (Back, a second tab): the refusal page.
    A form with a one-time key gets a fresh one each time, as a re-fetched page would."""

    def fresh() -> dict[str, str]:
        page = client.get(url)
        return {"submission": submission_of(page)} if 'name="submission"' in page.content.decode() else {}

    client.post(url, {**form, **fresh()})
    again = client.post(url, {**form, **fresh()})
    assert again.status_code == 200
    return again.content.decode()


def test_a_repeated_grant_or_adjustment_names_the_earlier_change_once(hr_client, make_user):
    ana = make_user(email="ana.silva@example.com")
    grant = sent_twice(
        hr_client, reverse("admin:shop_user_grant", args=[ana.pk]), {"amount": "10", "reason": "Thanks"}
    )
    assert grant.count(REPEAT) == 1
    assert grant.count("+10 points granted to ana.silva@example.com") == 1
    adjust = sent_twice(
        hr_client,
        reverse("admin:shop_user_adjust", args=[ana.pk]),
        {"direction": "deduct", "amount": "3", "reason": "Correction"},
    )
    assert adjust.count(REPEAT) == 1
    assert adjust.count("Correction") == 2  # the refusal, and the reason field HR typed it in
    assert PointsAccount.objects.get(user=ana).balance == 7


def test_a_repeated_grant_to_everyone_names_the_earlier_grant_once(hr_client, make_user):
    make_user(), make_user()
    page = sent_twice(hr_client, reverse("admin:shop_user_grant_all"), {"amount": "10", "reason": "Gift"})
    assert page.count(REPEAT) == 1
    assert page.count("10 points to 2 employees") == 1


def test_a_repeated_stock_change_names_the_earlier_change_once(hr_client, product):
    page = sent_twice(
        hr_client,
        reverse("admin:catalog_product_stock", args=[product.pk]),
        {"change": "10", "reason": "restock", "note": "Delivery 42"},
    )
    assert page.count(REPEAT) == 1
    assert page.count("Delivery 42") == 2  # the refusal, and the note field HR typed it in
    assert Product.objects.get(pk=product.pk).stock == 15


def test_approving_ones_own_request_is_refused_once_by_the_request_page(
    settings, hr_client, hr_user, make_user
):
    settings.GRANT_APPROVAL_THRESHOLD = 100
    ana = make_user()
    request = points_grant_or_request(user=ana, amount=500, reason="Patent", requested_by=hr_user)
    assert isinstance(request, GrantRequest)
    for refused in (
        hr_client.get(reverse("admin:points_grantrequest_approve", args=[request.pk]), follow=True),
        hr_client.post(
            reverse("admin:points_grantrequest_approve", args=[request.pk]), {"note": ""}, follow=True
        ),
    ):
        body = refused.content.decode()
        assert body.count("another HR user must approve it") == 1
        assert 'id="own-request-note"' in body and 'class="messagelist' not in body
    request.refresh_from_db()
    assert request.status == GrantRequest.Status.PENDING and PointsAccount.objects.get(user=ana).balance == 0


def test_a_grants_file_imported_again_without_consent_is_refused_once(hr_client, make_user):
    ana = make_user()
    text = f"{ana.email},100,Award\n"
    hr_client.post(IMPORT_URL, {"token": token_of(upload(hr_client, text)), "confirm": "1"})
    refused = hr_client.post(IMPORT_URL, {"token": token_of(upload(hr_client, text)), "confirm": "1"})
    body = refused.content.decode()
    assert refused.status_code == 200 and 'id="import-preview"' in body
    assert body.count("already imported") == 1 and body.count('class="errornote') == 1
    assert "Nothing was imported" in body and 'id="import-refused"' in body
    assert PointsAccount.objects.get(user=ana).balance == 100
