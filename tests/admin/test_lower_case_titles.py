"""Issue 22, item 14: an object is named in the back office exactly as its str() reads. An
employee's email keeps its lower case (never "Ana.silva@example.com") on the change, history and
delete-confirmation pages, in the page header, the <title>, the delete confirmation and the
success message; a product keeps its own spelling ("iPad stand", never "IPad stand")."""

from __future__ import annotations

from django.urls import reverse

from catalog.models import Product

EMAIL = "ana.silva@example.com"
CAPITALISED = "Ana.silva@example.com"


def header(body: str) -> str:
    """The page header (the theme's breadcrumb line), where the theme capitalises each part."""
    start = body.index("<h1")
    return body[start : body.index("</h1>", start)]


def test_an_employee_is_named_in_lower_case_on_every_page_and_message(super_client, make_user):
    ana = make_user(email=EMAIL, name="Ana Silva")
    for view in ("change", "history", "delete"):
        page = super_client.get(reverse(f"admin:shop_user_{view}", args=[ana.pk]))
        body = page.content.decode()
        assert page.status_code == 200, view
        assert EMAIL in header(body), view
        assert CAPITALISED not in body, view
    title = super_client.get(reverse("admin:shop_user_change", args=[ana.pk])).content.decode()
    assert f"<title> {EMAIL} |" in title
    history = super_client.get(reverse("admin:shop_user_history", args=[ana.pk])).content.decode()
    assert f"Change history: {EMAIL}" in history

    changed = super_client.post(
        reverse("admin:shop_user_change", args=[ana.pk]),
        {"email": EMAIL, "name": "Ana M. Silva", "employee_id": ana.employee_id or "", "is_active": "on"},
        follow=True,
    )
    body = changed.content.decode()
    assert "The employee “<a href=" in body and f"{EMAIL}</a>” was changed successfully." in body
    assert CAPITALISED not in body


def test_a_product_keeps_its_own_spelling_in_the_page_header(super_client, product):
    Product.objects.filter(pk=product.pk).update(name="iPad stand")
    for view in ("change", "history"):
        body = super_client.get(reverse(f"admin:catalog_product_{view}", args=[product.pk])).content.decode()
        assert "iPad stand" in header(body), view
        assert "IPad stand" not in body, view
