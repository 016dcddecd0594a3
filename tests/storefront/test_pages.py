"""The storefront's reading pages, as an employee's browser requests them.

Each page is checked for what a person needs from it, for its empty state, and for the rules
around it: only signed-in, active employees on the roster; HTML errors for pages, JSON for the
API; the security headers; query counts pinned.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Product
from notifications.models import NotificationPreference
from orders.placement import order_place_idempotent
from orders.services import order_refund
from points.expiry import add_months
from points.services.grants import points_grant
from tests.factories import CategoryFactory, ProductFactory, UserFactory
from tests.points.test_expiry import clock
from tests.storefront.sessions import signed_in_client
from tests.support.storefront_session import STOREFRONT_SIGN_IN_BACKEND

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> Any:
    return UserFactory(email="alice@example.com", name="Alice Martin", points=12500)


@pytest.fixture
def browser(alice: Any) -> Client:
    return signed_in_client(alice)


def _html(response: Any) -> str:
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    return response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in_and_come_back(client: Client) -> None:
    response = client.get("/products/?search=mug")
    assert response.status_code == 302
    assert response["Location"] == "/signin/?next=/products/%3Fsearch%3Dmug"


def test_an_account_off_the_roster_is_told_it_is_not_an_employee() -> None:
    hr_only = UserFactory(email="hr@example.com", is_employee=False, is_staff=True)
    response = signed_in_client(hr_only).get("/")
    assert response.status_code == 403
    assert "not on the employee roster" in _html(response)


def test_a_deactivated_employee_is_signed_out_on_the_next_request(alice: Any, browser: Client) -> None:
    assert browser.get("/").status_code == 200
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    response = browser.get("/orders/")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")
    assert "_auth_user_id" not in browser.session


def test_a_session_whose_auth_hash_no_longer_matches_is_ended(alice: Any, browser: Client) -> None:
    # The user comes with the session's own query (awsomeshop/sessions.py); Django's check of
    # the session's auth hash still runs on it, as after a password change.
    assert browser.get("/").status_code == 200
    session = browser.session
    session["_auth_user_hash"] = "0" * 64
    session.save()
    response = browser.get("/orders/")
    assert response.status_code == 302 and response["Location"].startswith("/signin/")
    assert "_auth_user_id" not in browser.session


def test_home_shows_balance_expiring_points_activity_and_what_is_affordable(
    alice: Any, browser: Client, settings: Any
) -> None:
    settings.POINTS_EXPIRY_MONTHS = 12
    # Granted 360 days ago: 800 of the 13,300 points expire within the next 30 days.
    with clock(timezone.localdate() - timedelta(days=360)):
        points_grant(user=alice, amount=800, reason="Anniversary")
    ProductFactory(name="Desk Lamp", points_cost=9000, stock=3)
    ProductFactory(name="Yacht", points_cost=900000, stock=1)
    ProductFactory(name="Sold-out Mug", points_cost=100, stock=0)
    page = _html(browser.get("/"))
    assert "13,300 points" in page  # one number format: thousands separators
    expires_on = add_months(timezone.localdate() - timedelta(days=360), 12)
    assert f"800 points expire on {expires_on.day} {expires_on:%b %Y}" in page
    assert "Desk Lamp" in page
    assert "Yacht" not in page and "Sold-out Mug" not in page
    assert "Anniversary" in page  # recent activity


def test_home_empty_states_without_points_or_products() -> None:
    newcomer = UserFactory(email="new@example.com")
    page = _html(signed_in_client(newcomer).get("/"))
    assert "You have no points yet" in page
    assert "No activity yet" in page


def test_catalog_filters_sorts_and_pages(alice: Any, browser: Client) -> None:
    tech = CategoryFactory(name="Tech", slug="tech")
    home = CategoryFactory(name="Home", slug="home")
    for n in range(14):
        ProductFactory(name=f"Cable {n:02}", points_cost=100 + n, category=tech, stock=5)
    ProductFactory(name="Espresso Machine", points_cost=20000, category=home, stock=2)
    ProductFactory(name="Hidden", points_cost=10, category=home, is_active=False)

    first = _html(browser.get("/products/"))
    assert '<label for="id_search">Search</label>' in first  # no trailing colon
    assert "15 products" in first and "Page 1 of 2" in first and "Hidden" not in first
    assert "Page 2 of 2" in _html(browser.get("/products/?page=2"))
    only_home = _html(browser.get("/products/?category=home"))
    assert "Espresso Machine" in only_home and "Cable 00" not in only_home
    affordable = _html(browser.get("/products/?affordable=on"))
    assert "Espresso Machine" not in affordable and "14 products" in affordable
    search = _html(browser.get("/products/?search=espresso"))
    assert "1 product<" in search
    dearest = _html(browser.get("/products/?sort=-points_cost"))
    assert dearest.index("Espresso Machine") < dearest.index("Cable 13")
    nothing = _html(browser.get("/products/?search=zzz"))
    assert "No products match these filters" in nothing
    # A value nobody offers is left out, named, instead of failing the page; the rest applies.
    bad = _html(browser.get("/products/?sort=price&category=nope&search=espresso"))
    assert "These filters were not valid, so they were left out:" in bad
    assert '<a href="#id_category">Category</a>: Select a valid choice.' in bad
    assert '<a href="#id_sort">Sort by</a>: Select a valid choice.' in bad
    assert "1 product<" in bad and "Espresso Machine" in bad  # the valid search still applies
    too_long = _html(browser.get("/products/?category=home&search=" + "a" * 500))
    assert (
        '<a href="#id_search">Search</a>: Ensure this value has at most 200 characters (it has 500).'
        in too_long
    )
    assert "Espresso Machine" in too_long and "Cable 00" not in too_long  # the category still applies


def test_a_page_past_the_end_is_the_storefronts_404(browser: Client) -> None:
    response = browser.get("/products/?page=9")
    assert response.status_code == 404
    html = _html(response)
    assert 'id="error-page"' in html
    # Ways on: the home page, and the catalog that the past-the-end page came from.
    assert (
        '<a class="button" href="/">' in html
        and '<a class="button button--secondary" href="/products/">' in html
    )


def test_product_page_shows_cost_by_quantity_and_balance_after(alice: Any, browser: Client) -> None:
    product = ProductFactory(name="Headphones", points_cost=4000, stock=4, description="Closed-back.")
    page = _html(browser.get(f"/products/{product.pk}/"))
    assert "Closed-back." in page
    assert "4,000 points" in page and "8,500 points" in page  # 12,500 - 4,000
    assert "Not enough points" in page  # four of them cost 16,000
    assert page.count('<option value="') == 4  # no more than the stock


@pytest.mark.parametrize(("cost", "says"), [(14_000, "1,500 more points "), (12_501, "1 more point ")])
def test_a_product_out_of_reach_says_how_many_points_are_missing(
    alice: Any, browser: Client, cost: int, says: str
) -> None:
    product = ProductFactory(name="Bike", points_cost=cost, stock=2)  # alice holds 12,500
    page = _html(browser.get(f"/products/{product.pk}/"))
    assert f"You need {says}for this product." in page
    assert "Continue to confirm" not in page


def test_the_history_totals_use_the_entries_words(alice: Any, browser: Client) -> None:
    totals = _html(browser.get("/points/")).split('<dl class="totals">', 1)[1].split("</dl>", 1)[0]
    assert "<dt>Earned</dt>" in totals and "<dt>Redeemed</dt>" in totals and "<dt>Expired</dt>" in totals


def test_an_inactive_or_unknown_product_is_a_404_page(browser: Client) -> None:
    hidden = ProductFactory(is_active=False)
    assert browser.get(f"/products/{hidden.pk}/").status_code == 404
    assert browser.get("/products/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_orders_list_and_detail_show_refunds_with_their_reason(alice: Any, browser: Client) -> None:
    product = ProductFactory(name="Backpack", points_cost=1500, stock=5)
    placed = order_place_idempotent(
        user=alice, product_id=product.pk, quantity=2, key="k1", body_for=lambda o: {"id": str(o.pk)}
    )
    order_refund(order_id=placed.body["id"], refunded_by=None, reason="Arrived damaged")
    listing = _html(browser.get("/orders/"))
    assert "2 \u00d7 Backpack" in listing and "Arrived damaged" in listing and "3,000 points" in listing
    detail = _html(browser.get(f"/orders/{placed.body['id']}/"))
    assert "Refund reason" in detail and "Arrived damaged" in detail


def test_someone_elses_order_is_not_found(browser: Client) -> None:
    bob = UserFactory(email="bob@example.com", points=5000)
    product = ProductFactory(points_cost=100)
    placed = order_place_idempotent(
        user=bob, product_id=product.pk, quantity=1, key="b", body_for=lambda o: {"id": str(o.pk)}
    )
    assert browser.get(f"/orders/{placed.body['id']}/").status_code == 404


def test_empty_orders_and_history_say_what_will_appear() -> None:
    newcomer = signed_in_client(UserFactory(email="empty@example.com"))
    assert "You have not ordered anything yet" in _html(newcomer.get("/orders/"))
    assert "No points yet" in _html(newcomer.get("/points/"))


def test_points_history_lists_every_kind_with_its_reason(alice: Any, browser: Client) -> None:
    product = ProductFactory(name="Mug", points_cost=300, stock=5)
    placed = order_place_idempotent(
        user=alice, product_id=product.pk, quantity=1, key="h", body_for=lambda o: {"id": str(o.pk)}
    )
    order_refund(order_id=placed.body["id"], refunded_by=None, reason="Wrong colour")
    page = _html(browser.get("/points/"))
    for label in ("Earned", "Redeemed", "Refunded"):
        assert label in page
    assert "\u2212300" in page and "+300" in page and "Order: 1 x Mug" in page


def test_email_preferences_are_saved_with_post_redirect_get(alice: Any, browser: Client) -> None:
    assert 'name="optional_emails"' in _html(browser.get("/settings/emails/"))
    response = browser.post("/settings/emails/", {})
    assert response.status_code == 302 and response["Location"] == "/settings/emails/"
    assert NotificationPreference.objects.get(user=alice).optional_emails is False
    assert "preferences are saved" in _html(browser.get("/settings/emails/"))


def test_forms_without_a_csrf_token_are_refused_with_a_page(alice: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice, backend=STOREFRONT_SIGN_IN_BACKEND)
    response = strict.post("/settings/emails/", {"optional_emails": "on"})
    assert response.status_code == 403
    assert "This form has expired" in _html(response)


def test_pages_carry_a_strict_content_security_policy_and_the_api_keeps_json(browser: Client) -> None:
    response = browser.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]
    assert '<script src="/static/storefront/shop.js" defer>' in response.content.decode()
    assert "<script>" not in response.content.decode() and "style=" not in response.content.decode()

    api = browser.get("/api/v1/nope/")
    assert api.status_code == 404
    assert api["Content-Type"] == "application/json"
    assert "Content-Security-Policy" not in api


def test_unknown_pages_are_the_storefronts_404(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert 'id="error-page"' in _html(response)


def test_query_counts_of_the_busiest_pages_are_pinned(
    alice: Any, browser: Client, django_assert_num_queries
) -> None:
    category = CategoryFactory(name="Tech", slug="tech")
    for n in range(5):
        ProductFactory(name=f"Thing {n}", points_cost=100, category=category, stock=3)
    # the session with its user and points account (awsomeshop/sessions.py), categories,
    # count, page of products
    with django_assert_num_queries(4):
        browser.get("/products/")
    # Kept per process since (storefront/listing.py): the session with its user, the page's
    # products as their cards show them with the catalog's version
    with django_assert_num_queries(2):
        browser.get("/products/")
    # the session with its user, affordable products, recent activity
    with django_assert_num_queries(3):
        browser.get("/")


def test_an_error_page_that_cannot_be_rendered_is_still_the_right_answer(
    client: Client, settings: Any, tmp_path: Any
) -> None:
    # Production settings without collected static files (a broken build): the page's look
    # cannot be rendered, but the answer stays a 404 with its words, not a 500.
    settings.STATIC_ROOT = str(tmp_path)  # nothing collected there
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_product_cards_are_rendered_once_and_never_stale(browser: Client) -> None:
    from django.test.signals import template_rendered

    from storefront.cards import product_cards_clear

    product_cards_clear()
    lamp = ProductFactory(name="Desk Lamp", points_cost=900, stock=9)
    rendered: list[str] = []

    def count(sender: Any, template: Any, **kwargs: Any) -> None:
        rendered.append(template.name)

    template_rendered.connect(count)
    try:
        assert "In stock" in _html(browser.get("/products/"))
        assert rendered.count("storefront/partials/product_card.html") == 1
        assert "In stock" in _html(browser.get("/products/"))
        assert rendered.count("storefront/partials/product_card.html") == 1  # reused
        # Whatever the card shows changes its key: stock state, cost, name.
        Product.objects.filter(pk=lamp.pk).update(stock=2, points_cost=1100, name="Floor Lamp")
        page = _html(browser.get("/products/"))
        assert "Only 2 left" in page and "1,100 points" in page and "Floor Lamp" in page
        assert "Desk Lamp" not in page
    finally:
        template_rendered.disconnect(count)


def test_every_page_marks_its_own_section_in_the_kept_navigation(alice: Any, browser: Client) -> None:
    """The header, navigation and footer are rendered once per process ({% cache %} in
    base.html): each page still marks its own section current, and only its own."""
    from django.core.cache import caches

    lamp = ProductFactory(name="Desk Lamp", points_cost=100, stock=5)
    placed = order_place_idempotent(
        user=alice, product_id=lamp.pk, quantity=1, key="nav-1", body_for=lambda o: {"id": str(o.pk)}
    )
    pages = {
        "/": "/",
        "/products/": "/products/",
        f"/products/{lamp.pk}/": "/products/",
        "/orders/": "/orders/",
        f"/orders/{placed.body['id']}/": "/orders/",
        "/points/": "/points/",
        "/settings/emails/": "/settings/emails/",
    }
    caches["template_fragments"].clear()
    for _round in range(2):  # rendered, then from what was kept
        for path, current in pages.items():
            html = _html(browser.get(path))
            nav = html[html.index('<nav class="site-nav"') : html.index("</nav>")]
            marked = [
                link.split('"')[1] for link in nav.split("<a href=")[1:] if 'aria-current="page"' in link
            ]
            assert marked == [current], path
            assert html.count("<footer") == 1 and 'name="csrfmiddlewaretoken"' in html
            assert "Alice Martin" in html  # the signed-in name is not kept with the header
