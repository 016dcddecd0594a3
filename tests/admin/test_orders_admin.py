"""Orders in the admin: filters, search, export, refunds through order_refund."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from catalog.models import Product, StockMovement
from orders.models import Order
from orders.services import order_place
from points.models import PointsAccount, PointsTransaction
from tests.factories import ProductFactory

CHANGELIST = reverse("admin:orders_order_changelist")


def test_filters_by_status_product_employee_and_dates(hr_client, make_user, product):
    ana = make_user(email="ana@example.com", points=5000)
    bo = make_user(email="bo@example.com", points=5000)
    mug = ProductFactory(name="Mug", points_cost=50, stock=10)
    o1 = order_place(user=ana, product_id=product.pk)
    order_place(user=bo, product_id=mug.pk)
    Order.objects.filter(pk=o1.pk).update(created_at=timezone.now() - timedelta(days=40))

    def emails(params):
        return sorted(o.user.email for o in hr_client.get(CHANGELIST, params).context["cl"].result_list)

    assert emails({"product__id__exact": str(mug.pk)}) == ["bo@example.com"]
    assert emails({"employee": "ana@"}) == ["ana@example.com"]
    assert emails({"q": "Mug"}) == ["bo@example.com"]
    today = timezone.now().date()
    assert emails({"date_from": str(today - timedelta(days=7)), "date_to": str(today)}) == ["bo@example.com"]
    assert emails({"date_to": str(today - timedelta(days=30))}) == ["ana@example.com"]
    assert emails({"status__exact": "refunded"}) == []


def test_export_is_the_filtered_list(hr_client, make_user, product):
    ana = make_user(email="ana@example.com", points=5000)
    bo = make_user(email="bo@example.com", points=5000)
    order_place(user=ana, product_id=product.pk, quantity=2)
    order_place(user=bo, product_id=product.pk)
    response = hr_client.get(reverse("admin:orders_order_export"), {"employee": "ana@"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["email"], r["quantity"], r["points_used"]) for r in rows] == [("ana@example.com", "2", "600")]


def test_refund_from_the_detail_page(hr_client, hr_user, make_user, product):
    user = make_user(points=1000)
    order = order_place(user=user, product_id=product.pk, quantity=2)
    detail = hr_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Refund this order" in detail
    url = reverse("admin:orders_order_refund", args=[order.pk])
    assert hr_client.post(url, {"reason": ""}).status_code == 200  # a reason is required
    response = hr_client.post(url, {"reason": "Arrived broken"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (
        order.status == "refunded"
        and order.refunded_by == hr_user
        and order.refund_reason == "Arrived broken"
    )
    assert PointsAccount.objects.get(user=user).balance == 1000
    assert Product.objects.get(pk=product.pk).stock == 5
    entry = PointsTransaction.objects.get(order=order, type="refunded")
    assert (entry.amount, entry.created_by) == (600, hr_user)
    assert StockMovement.objects.filter(order=order, reason="refund", created_by=hr_user).exists()
    assert LogEntry.objects.filter(
        object_id=str(order.pk), user=hr_user, change_message__contains="Refunded"
    ).exists()
    # A second refund is refused and changes nothing.
    hr_client.post(url, {"reason": "Again"})
    assert PointsAccount.objects.get(user=user).balance == 1000


def test_refund_selected_action(hr_client, make_user, product):
    user = make_user(points=1000)
    a = order_place(user=user, product_id=product.pk)
    b = order_place(user=user, product_id=product.pk)
    ids = [str(a.pk), str(b.pk)]
    page = hr_client.post(CHANGELIST, {"action": "refund_selected", "_selected_action": ids})
    assert "Refund 2 orders" in page.content.decode()
    assert Order.objects.filter(status="refunded").count() == 0
    hr_client.post(
        CHANGELIST,
        {"action": "refund_selected", "_selected_action": ids, "apply": "1", "reason": "Cancelled"},
    )
    assert Order.objects.filter(status="refunded").count() == 2
    assert PointsAccount.objects.get(user=user).balance == 1000


def test_orders_cannot_be_edited_or_deleted(super_client, make_user, product):
    order = order_place(user=make_user(points=1000), product_id=product.pk)
    url = reverse("admin:orders_order_change", args=[order.pk])
    assert super_client.post(url, {"status": "refunded"}).status_code == 403
    assert (
        super_client.post(reverse("admin:orders_order_delete", args=[order.pk]), {"post": "yes"}).status_code
        == 403
    )
    order.refresh_from_db()
    assert order.status == "delivered"


def test_staff_without_refund_permission_cannot_refund(staff_without_group, make_user, product):
    order = order_place(user=make_user(points=1000), product_id=product.pk)
    response = staff_without_group.post(
        reverse("admin:orders_order_refund", args=[order.pk]), {"reason": "x"}
    )
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == "delivered"


def test_orders_changelist_query_count_does_not_grow(hr_client, make_user, django_assert_max_num_queries):
    user = make_user(points=100_000)
    for i in range(30):
        order_place(user=user, product_id=ProductFactory(name=f"P{i}", stock=3).pk)
    with django_assert_max_num_queries(12):
        response = hr_client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 30
