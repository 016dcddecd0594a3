"""Pieces the back-office admins share: text and date-range filters, CSV export of the
filtered changelist, and the intermediate form page used by actions and object tools."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from shop.models import User


def acting_user(request: HttpRequest) -> User:
    """The signed-in admin user (admin views only run for authenticated staff)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


class InputFilter(admin.ListFilter):
    """A sidebar filter with typed inputs (text, date) instead of a list of links."""

    template = "admin/hr/input_filter.html"
    inputs: Sequence[tuple[str, str, str]] = ()  # (query parameter, label, input type)

    def __init__(self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any) -> None:
        super().__init__(request, params, model, model_admin)
        for name, _, _ in self.inputs:
            if name in params:
                values = params.pop(name)
                value = values[-1] if isinstance(values, list) else values
                if str(value).strip():
                    self.used_parameters[name] = str(value).strip()

    def has_output(self) -> bool:
        return True

    def value(self, name: str) -> str | None:
        value = self.used_parameters.get(name)
        return str(value) if value else None

    def expected_parameters(self) -> list[str | None]:
        return [name for name, _, _ in self.inputs]

    def choices(self, changelist: Any) -> Iterator[Any]:
        rest = changelist.get_query_string(remove=[*(n for n, _, _ in self.inputs), "p"])
        yield {
            "inputs": [(n, label, kind, self.used_parameters.get(n, "")) for n, label, kind in self.inputs],
            "hidden": parse_qsl(rest.lstrip("?"), keep_blank_values=True),
            "clear_url": rest,
            "active": bool(self.used_parameters),
        }


class EmployeeFilter(InputFilter):
    """Filter by employee: part of an email, a name or an exact employee id."""

    title = "employee"
    inputs = (("employee", "Email, name or employee id", "text"),)
    user_path = "user"

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value("employee")
        if not value:
            return queryset
        p = self.user_path
        return queryset.filter(
            Q(**{f"{p}__email__icontains": value})
            | Q(**{f"{p}__name__icontains": value})
            | Q(**{f"{p}__employee_id": value})
        )


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


class DateRangeFilter(InputFilter):
    """From/to dates (inclusive), applied as a half-open datetime range so indexes are used."""

    title = "date"
    field_name = "created_at"
    inputs = (("date_from", "From", "date"), ("date_to", "To (inclusive)", "date"))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        tz = timezone.get_current_timezone()
        start = _parse_day(self.value("date_from"))
        end = _parse_day(self.value("date_to"))
        if start:
            queryset = queryset.filter(**{f"{self.field_name}__gte": datetime.combine(start, time.min, tz)})
        if end:
            end_excl = datetime.combine(end + timedelta(days=1), time.min, tz)
            queryset = queryset.filter(**{f"{self.field_name}__lt": end_excl})
        return queryset


class _Echo:
    def write(self, value: str) -> str:
        return value


class CsvExportMixin:
    """Adds `export/` to a ModelAdmin: the changelist as filtered and searched now, as CSV.

    The changelist itself parses the query string, so the export always matches the page
    the user sees (without pagination). Rows are streamed: a large ledger never sits in memory.
    """

    csv_filename = "export"
    csv_columns: Sequence[tuple[str, Callable[[Any], Any]]] = ()

    def get_urls(self) -> list[Any]:
        model_admin: Any = self
        info = model_admin.opts.app_label, model_admin.opts.model_name
        urls = [
            path(
                "export/",
                model_admin.admin_site.admin_view(self.csv_export_view),
                name="{}_{}_export".format(*info),
            )
        ]
        return urls + super().get_urls()  # type: ignore[misc]

    def csv_export_view(self, request: HttpRequest) -> HttpResponseBase:
        model_admin: Any = self
        if not model_admin.has_view_permission(request):
            raise PermissionDenied
        changelist = model_admin.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)
        writer = csv.writer(_Echo())

        def rows() -> Iterable[str]:
            yield writer.writerow([header for header, _ in self.csv_columns])
            for obj in queryset.iterator(chunk_size=2000):
                yield writer.writerow([_csv_safe(value(obj)) for _, value in self.csv_columns])

        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.csv_filename}-{stamp}.csv"'
        return response


def _csv_safe(value: Any) -> Any:
    # Spreadsheet apps run cells starting with = + - @ as formulas; an employee-typed reason
    # must not become one. Numbers are left alone (negative amounts are data).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if value is None:
        return ""
    return value


def points_figure(value: int, *, signed: bool = False) -> str:
    """Points as HR reads them: 1,250,000 rather than 1250000 (the CSV exports keep plain numbers)."""
    return f"{value:+,}" if signed else f"{value:,}"


def counted(n: int, noun: str, plural: str = "") -> str:
    """ "1 employee", "1,250 employees": the number as HR reads it, the noun agreeing with it."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def admin_url(obj: Model, view: str = "change") -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def form_page(
    request: HttpRequest,
    model_admin: Any,
    *,
    title: str,
    form: forms.Form,
    submit: str,
    intro: str = "",
    objects: Sequence[Any] = (),
    object_count: int | None = None,
    obj: Any = None,
    hidden: Sequence[tuple[str, str]] = (),
    danger: bool = False,
    left_out: Sequence[str] = (),
) -> TemplateResponse:
    """The intermediate page of an action or object tool: a short explanation, a form, a button,
    and (for bulk grants) who is left out and why."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "form": form,
        "submit": submit,
        "intro": intro,
        "objects": list(objects)[:20],
        "object_count": len(objects) if object_count is None else object_count,
        "original": obj,
        "hidden": hidden,
        "danger": danger,
        "left_out": list(left_out)[:50],
        "left_out_count": len(left_out),
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/hr/form_page.html", context)
