"""Admin for orders: filter, search, export; refunds go through order_refund (points and stock
come back, with a `refunded` ledger entry). Orders themselves are never edited or deleted."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from unfold.admin import ModelAdmin

from orders.forms import RefundForm
from orders.models import Order
from orders.services import order_refund
from shop.admin_kit.tools import (
    CsvExportMixin,
    DateRangeFilter,
    EmployeeFilter,
    acting_user,
    admin_url,
    counted,
    form_page,
    points_figure,
)
from shop.http.errors import AlreadyRefunded, OwnAccountRefused

OWN_ORDER_MESSAGE = "This is your own order: another HR user must refund it."


@admin.register(Order)
class OrderAdmin(CsvExportMixin, ModelAdmin):
    change_list_template = "admin/orders/order/change_list.html"
    change_form_template = "admin/orders/order/change_form.html"
    list_display = (
        "created_at",
        "short_id",
        "user",
        "product",
        "quantity",
        "points",
        "status",
        "refunded_at",
    )
    list_display_links = ("created_at", "short_id")
    list_filter = ("status", DateRangeFilter, ("product", admin.RelatedOnlyFieldListFilter), EmployeeFilter)
    search_fields = ("user__email", "user__name", "user__employee_id", "product__name", "=id")
    list_select_related = ("user", "product")
    list_per_page = 100
    show_full_result_count = False
    actions = ("refund_selected",)
    csv_filename = "orders"
    csv_columns = (
        ("order_id", lambda o: o.pk),
        ("created_at", lambda o: o.created_at.isoformat()),
        ("email", lambda o: o.user.email),
        ("employee_id", lambda o: o.user.employee_id),
        ("product", lambda o: o.product.name),
        ("quantity", lambda o: o.quantity),
        ("unit_points_cost", lambda o: o.unit_points_cost),
        ("points_used", lambda o: o.points_used),
        ("status", lambda o: o.status),
        ("refunded_at", lambda o: o.refunded_at.isoformat() if o.refunded_at else ""),
        ("refund_reason", lambda o: o.refund_reason),
    )

    @admin.display(description="Order", ordering="id")
    def short_id(self, obj: Order) -> str:
        return str(obj.pk)[:8]

    @admin.display(description="Points used", ordering="points_used")
    def points(self, obj: Order) -> str:
        return points_figure(obj.points_used)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_refund_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("orders.refund_order")

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<path:object_id>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="orders_order_refund",
            ),
            *super().get_urls(),
        ]

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        context["can_refund"] = self.has_refund_permission(request)
        original = context.get("original")
        context["own_order"] = original is not None and original.user_id == request.user.pk
        context["own_order_message"] = OWN_ORDER_MESSAGE
        return super().render_change_form(request, context, *args, **kwargs)

    def _refund(self, request: HttpRequest, order: Order, reason: str) -> bool:
        try:
            refunded = order_refund(order_id=order.pk, refunded_by=acting_user(request), reason=reason)
        except AlreadyRefunded:
            return False
        # The refunded order, so Recent actions names it "(refunded)", not its state before.
        self.log_change(request, refunded, f"Refunded: {reason}")
        return True

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_refund_permission(request):
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404("No such order.")
        if order.status == Order.Status.REFUNDED:
            self.message_user(request, "This order has already been refunded.", messages.WARNING)
            return HttpResponseRedirect(admin_url(order))
        if order.user_id == request.user.pk:
            # The order's page says so in its own note; a message too would say it twice.
            return HttpResponseRedirect(admin_url(order))
        form = RefundForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                refunded = self._refund(request, order, form.cleaned_data["reason"])
            except OwnAccountRefused as exc:
                self.message_user(request, exc.detail, messages.ERROR)
                return HttpResponseRedirect(admin_url(order))
            if refunded:
                self.message_user(
                    request,
                    f"Refunded: {order.points_used} points back to {order.user.email}, "
                    f"{order.quantity} x {order.product.name} back in stock.",
                    messages.SUCCESS,
                )
            else:
                self.message_user(request, "This order has already been refunded.", messages.WARNING)
            return HttpResponseRedirect(admin_url(order))
        return form_page(
            request,
            self,
            title=f"Refund order {str(order.pk)[:8]}",
            intro=f"{order.user.email} gets {order.points_used} points back and {order.quantity} x "
            f"{order.product.name} goes back into stock.",
            form=form,
            submit="Refund order",
            obj=order,
            danger=True,
        )

    @admin.action(description="Refund the selected orders", permissions=["refund"])
    def refund_selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> Any:
        delivered = queryset.filter(status=Order.Status.DELIVERED).select_related("user", "product")
        me = acting_user(request).pk
        orders = list(delivered.exclude(user_id=me))
        own = delivered.filter(user_id=me).count()
        already = queryset.filter(status=Order.Status.REFUNDED).count()
        if not orders:
            self.message_user(
                request,
                OWN_ORDER_MESSAGE if own else "The selected orders have already been refunded.",
                messages.ERROR if own else messages.WARNING,
            )
            return None
        form = RefundForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = [o for o in orders if self._refund(request, o, form.cleaned_data["reason"])]
            self.message_user(
                request,
                f"Refunded {counted(len(done), 'order')}: {sum(o.points_used for o in done):,} points returned.",
                messages.SUCCESS,
            )
            return None
        intro = "Points go back to each employee and the products back into stock."
        if already:
            intro += f" {counted(already, 'selected order')} already refunded, left out."
        if own:
            intro += f" {own} of the selected orders are your own and are left out: another HR user must refund them."
        return form_page(
            request,
            self,
            title="Refund the selected orders",
            intro=intro,
            form=form,
            submit=f"Refund {counted(len(orders), 'order')}",
            objects=[
                f"{o.user.email}: {o.quantity} x {o.product.name} ({o.points_used} points)" for o in orders
            ],
            hidden=[("action", "refund_selected")]
            + [(helpers.ACTION_CHECKBOX_NAME, str(o.pk)) for o in orders],
            danger=True,
        )
