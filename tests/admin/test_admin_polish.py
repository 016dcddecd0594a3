"""Small things HR reads every day: names, labels, counts, figures, wording, history, the chart."""

from __future__ import annotations

import re
from datetime import date
from secrets import token_urlsafe

from django.contrib.admin.models import LogEntry
from django.urls import reverse

from orders.services import order_place
from points.models import GrantBatch
from points.selectors import Flows
from points.services.grants import points_grant, points_grant_bulk
from shop.admin_kit.charts import MIN_BAR_HEIGHT, weekly_flows_svg
from tests.factories import ProductFactory

USERS = reverse("admin:shop_user_changelist")


def test_the_admin_is_named_awsomeshop(hr_client):
    body = hr_client.get(reverse("admin:index")).content.decode()
    assert re.search(r"<title>\s*HR back office \| AWSomeShop administration</title>", body)
    # The header: the site's name, linking home.
    assert re.search(r'id="site-name">\s*<a href="/admin/">\s*AWSomeShop administration\s*</a>', body)
    assert "Django administration" not in body and "Django site admin" not in body


def test_grant_batch_sources_are_shown_by_their_labels(hr_client, hr_user, make_user):
    a = make_user()
    points_grant_bulk(grants=[(a, 5, "Thanks")], source="all_active", granted_by=hr_user)
    points_grant_bulk(grants=[(a, 5, "Thanks")], source="selection", granted_by=hr_user)
    body = hr_client.get(reverse("admin:points_grantbatch_changelist")).content.decode()
    assert "All active employees" in body and "Selected employees" in body
    assert ">all_active<" not in body and ">selection<" not in body


def test_the_ledger_footer_counts_ledger_entries(hr_client, make_user):
    make_user(points=5), make_user(points=7)
    body = hr_client.get(reverse("admin:points_pointstransaction_changelist")).content.decode()
    assert re.search(r"2\s+ledger entries", body), body


def test_points_figures_have_thousands_separators(hr_client, hr_user, make_user, settings):
    settings.GRANT_APPROVAL_THRESHOLD = 10**9  # applied directly; approvals are tested elsewhere
    rich = make_user(email="rich@example.com")
    points_grant(user=rich, amount=1_000_000, reason="Big award", granted_by=hr_user)
    points_grant(user=rich, amount=250_000, reason="Another", granted_by=hr_user)
    listing = hr_client.get(USERS, {"q": "rich@"}).content.decode()
    assert "1,250,000" in listing and "1250000" not in listing
    detail = hr_client.get(reverse("admin:shop_user_change", args=[rich.pk])).content.decode()
    assert "<strong>1,250,000</strong> points" in detail and "+1,000,000" in detail
    ledger = hr_client.get(reverse("admin:points_pointstransaction_changelist")).content.decode()
    assert "+1,000,000" in ledger and "1,250,000" in ledger


def test_product_and_order_lists_and_the_grant_form_write_figures_as_the_rest(hr_client, make_user, settings):
    settings.GRANT_APPROVAL_THRESHOLD = 10_000
    product = ProductFactory(name="Espresso machine", points_cost=12_500, stock=1_200)
    order_place(user=make_user(points=30_000), product_id=product.pk, quantity=2)
    products = hr_client.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert "12,500" in products and "1,198" in products and "12500" not in products  # 2 ordered
    orders = hr_client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert "25,000" in orders and "25000" not in orders
    grant = hr_client.get(reverse("admin:shop_user_grant_all")).content.decode()
    assert "above 10,000 points waits" in grant


def test_the_single_employee_grant_form_speaks_of_this_employee(hr_client, make_user):
    a = make_user()
    single = hr_client.get(reverse("admin:shop_user_grant", args=[a.pk])).content.decode()
    assert "Whole points to give this employee." in single and "each employee" not in single
    everyone = hr_client.get(reverse("admin:shop_user_grant_all")).content.decode()
    assert "Whole points to give each employee." in everyone


def test_recent_actions_show_a_refunded_order_as_refunded(hr_client, make_user, product):
    order = order_place(user=make_user(points=1000), product_id=product.pk)
    hr_client.post(reverse("admin:orders_order_refund", args=[order.pk]), {"reason": "Arrived broken"})
    entry = LogEntry.objects.get(object_id=str(order.pk))
    assert entry.object_repr.endswith("(refunded)")
    body = hr_client.get(reverse("admin:index")).content.decode()
    recent = body.split('id="recent-actions-module"', 1)[1]
    assert "(refunded)" in recent and "(delivered)" not in recent


def test_an_employees_history_includes_bulk_and_csv_grants(hr_client, hr_user, make_user):
    a = make_user()
    hr_client.post(
        reverse("admin:shop_user_grant_all"),
        {"amount": "20", "reason": "Holiday gift", "submission": token_urlsafe(32)},
    )
    points_grant_bulk(grants=[(a, 7, "CSV award")], source="csv", filename="q3.csv", granted_by=hr_user)
    body = hr_client.get(reverse("admin:shop_user_history", args=[a.pk])).content.decode()
    section = body.split('id="bulk-grant-history"', 1)[1]
    assert "All active employees" in section and "Holiday gift" in section and "+20" in section
    assert "CSV file: q3.csv" in section and "CSV award" in section
    for batch in GrantBatch.objects.all():
        assert reverse("admin:points_grantbatch_change", args=[batch.pk]) in section


def _bar_heights(svg: str, name: str) -> list[float]:
    return [float(h) for h in re.findall(rf'height="([0-9.]+)" fill="[^"]+" class="bar-{name}"', svg)]


def test_the_redeemed_bar_stays_visible_next_to_a_large_grant():
    flows = [
        Flows(key=date(2026, 11, 2), granted=1_000_000, redeemed=40),
        Flows(key=date(2026, 11, 9), granted=0, redeemed=0),
    ]
    svg = str(weekly_flows_svg(flows))
    redeemed = _bar_heights(svg, "redeemed")
    assert redeemed[0] >= MIN_BAR_HEIGHT  # 40 of 1,000,000 would be 0.01 px
    assert redeemed[1] == 0  # nothing redeemed: no bar
    assert _bar_heights(svg, "granted")[0] > 100
    assert "40 points redeemed" in svg and ">1,000,000<" in svg
