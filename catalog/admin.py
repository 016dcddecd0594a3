"""Admin for categories and products. Stock is read-only here: it changes through
product_stock_adjust (recorded with who and why); images go through catalog.images."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin

from catalog.forms import ProductAddForm, ProductForm, StockChangeForm
from catalog.images import product_image_set
from catalog.models import Category, Product, StockMovement
from catalog.selectors import LOW_STOCK_THRESHOLD
from catalog.services import product_stock_adjust
from shop.admin_kit.repeats import RepeatNotConfirmed
from shop.admin_kit.tools import acting_user, admin_url, form_page, points_figure
from shop.http.errors import OutOfStock


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ("name", "slug", "product_count")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(description="Products", ordering="product_count")
    def product_count(self, obj: Any) -> int:
        return obj.product_count


class StockLevelFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock_level"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("out", "Out of stock"), ("low", f"Low (≤ {LOW_STOCK_THRESHOLD})")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        if self.value() == "out":
            return queryset.filter(stock=0)
        if self.value() == "low":
            return queryset.filter(stock__lte=LOW_STOCK_THRESHOLD)
        return queryset


def _thumbnail(product: Product, size: int) -> str:
    if not product.thumbnail:
        return "—"
    return format_html(
        '<img src="{}" alt="{}" class="product-thumbnail" style="max-width:{}px;max-height:{}px;">',
        product.thumbnail.url,
        product.name,
        size,
        size,
    )


@admin.register(Product)
class ProductAdmin(ModelAdmin):
    form = ProductForm
    change_form_template = "admin/catalog/product/change_form.html"
    list_display = ("thumbnail_small", "name", "category", "cost", "stock_shown", "is_active")
    list_display_links = ("thumbnail_small", "name")
    list_filter = ("is_active", StockLevelFilter, "category")
    search_fields = ("name", "description")
    list_select_related = ("category",)
    readonly_fields = ("stock", "thumbnail_large", "stock_movements")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = ProductForm if obj is not None else ProductAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [
                (
                    None,
                    {
                        "fields": (
                            "name",
                            "description",
                            "category",
                            "points_cost",
                            "is_active",
                            "initial_stock",
                            "image_upload",
                        )
                    },
                )
            ]
        return [
            (None, {"fields": ("name", "description", "category", "points_cost", "is_active")}),
            ("Image", {"fields": ("thumbnail_large", "image_upload")}),
            ("Stock", {"fields": ("stock", "stock_movements")}),
        ]

    @admin.display(description="Points cost", ordering="points_cost")
    def cost(self, obj: Product) -> str:
        return points_figure(obj.points_cost)

    @admin.display(description="Stock", ordering="stock")
    def stock_shown(self, obj: Product) -> str:
        return f"{obj.stock:,}"

    @admin.display(description="Image")
    def thumbnail_small(self, obj: Product) -> str:
        return _thumbnail(obj, 48)

    @admin.display(description="Current image")
    def thumbnail_large(self, obj: Product) -> str:
        return _thumbnail(obj, 240)

    @admin.display(description="Stock changes")
    def stock_movements(self, obj: Product) -> str:
        moves = list(obj.stock_movements.select_related("created_by").order_by("-created_at")[:20])
        if not moves:
            return "No stock changes yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    m.created_at.strftime("%Y-%m-%d %H:%M"),
                    f"{m.delta:+d}",
                    m.stock_after,
                    m.get_reason_display(),
                    m.note,
                    m.created_by or "",
                )
                for m in moves
            ),
        )
        return format_html(
            '<table class="hr-section"><thead><tr><th>When</th><th>Change</th><th>Stock after</th><th>Reason</th>'
            "<th>Note</th><th>By</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        if not change:
            obj.stock = 0  # the initial stock is recorded as a restock movement below
        super().save_model(request, obj, form, change)
        data = form.cleaned_data.get("image_upload")
        if data:
            product_image_set(product=obj, data=data)
        initial = form.cleaned_data.get("initial_stock") or 0
        if not change and initial > 0:
            product_stock_adjust(
                product_id=obj.pk,
                delta=initial,
                reason=StockMovement.Reason.RESTOCK,
                note="Initial stock",
                changed_by=acting_user(request),
            )
            obj.refresh_from_db(fields=["stock"])

    # --- change stock -------------------------------------------------------------------

    def has_change_stock_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("catalog.change_stock")

    def get_urls(self) -> list[Any]:
        from django.urls import path

        return [
            path(
                "<path:object_id>/stock/",
                self.admin_site.admin_view(self.stock_view),
                name="catalog_product_stock",
            ),
            *super().get_urls(),
        ]

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        context["can_change_stock"] = self.has_change_stock_permission(request)
        return super().render_change_form(request, context, *args, **kwargs)

    def stock_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_change_stock_permission(request):
            raise PermissionDenied
        product = self.get_object(request, unquote(object_id))
        if product is None:
            raise Http404("No such product.")
        form = StockChangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            change, reason, note = (form.cleaned_data[k] for k in ("change", "reason", "note"))
            try:
                move = product_stock_adjust(
                    product_id=product.pk,
                    delta=change,
                    reason=reason,
                    note=note,
                    changed_by=acting_user(request),
                    confirm_repeat_of=form.confirmed_repeat(),
                )
            except RepeatNotConfirmed as exc:
                form.ask_repeat(exc)
            except OutOfStock:
                form.add_error(
                    "change", f"Stock cannot go below zero: there are {product.stock} units. Nothing changed."
                )
            else:
                self.log_change(request, product, f"Stock {change:+d} ({reason}): {note}")
                self.message_user(
                    request, f"Stock of {product.name} is now {move.stock_after}.", messages.SUCCESS
                )
                return HttpResponseRedirect(admin_url(product))
        return form_page(
            request,
            self,
            title=f"Change the stock of {product.name}",
            intro=f"Stock now: {product.stock} units.",
            form=form,
            submit="Change stock",
            obj=product,
        )


@admin.register(StockMovement)
class StockMovementAdmin(ModelAdmin):
    list_display = ("created_at", "product", "delta", "stock_after", "reason", "note", "created_by")
    list_filter = ("reason", ("product", admin.RelatedOnlyFieldListFilter))
    search_fields = ("product__name", "note")
    list_select_related = ("product", "created_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
