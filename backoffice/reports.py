"""HR reports in the admin: points liability, flows by period and department, top products,
expiring points; each shown as a table on one page and downloadable as CSV.

A screen that spans the domain apps, so it lives above them (in the back office app). Every
figure comes from a grouped selector: the number of queries is fixed, whatever the volume.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.text import slugify

from orders.selectors import products_top
from points.selectors import (
    day_start,
    points_expiring_windows,
    points_flows_by_department,
    points_flows_by_period,
    points_liability_now,
    points_liability_series,
)
from shop.admin_kit.tools import _csv_safe
from shop.identity.selectors import departments_list

REPORT_PERMISSION = "points.view_pointstransaction"
MAX_SPAN_DAYS = 5 * 366  # bounds a weekly report to about 260 rows
EXPIRY_WINDOWS = (30, 60, 90)
TOP_PRODUCTS = 50


class ReportFilterForm(forms.Form):
    """The period (inclusive dates), the department and the grouping, from GET parameters."""

    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    department = forms.ChoiceField(required=False, choices=())
    group = forms.ChoiceField(required=False, choices=[("month", "By month"), ("week", "By week")])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field_ = self.fields["department"]
        assert isinstance(field_, forms.ChoiceField)
        field_.choices = [("", "All departments")] + [(d, d) for d in departments_list(active_only=False)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The start date is after the end date.")
        if start and end and (end - start).days > MAX_SPAN_DAYS:
            raise forms.ValidationError("A report covers at most five years.")
        return data


@dataclass(frozen=True)
class ReportParams:
    start: date
    end: date
    department: str
    group: str


def report_params(data: Any, *, default_days: int) -> tuple[ReportFilterForm, ReportParams]:
    """The form (with any errors to show) and the parameters to use: invalid input falls back
    to the defaults (the last ``default_days`` days, every department, by month)."""
    form = ReportFilterForm(data or None)
    clean: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    end = clean.get("date_to") or timezone.localdate()
    start = clean.get("date_from") or end - timedelta(days=default_days - 1)
    if (end - start).days > MAX_SPAN_DAYS:
        start = end - timedelta(days=MAX_SPAN_DAYS)
    if not form.is_bound:
        # The period that applies is shown in From and To, not left blank.
        form.initial.update(date_from=start, date_to=end)
    return form, ReportParams(start, end, clean.get("department") or "", clean.get("group") or "month")


@dataclass
class Table:
    name: str
    title: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    # A table read across a whole row (many columns): laid out full width, not in a card.
    wide: bool = False


def report_liability(p: ReportParams) -> Table:
    now = points_liability_now(department=p.department)
    series = points_liability_series(period=p.group, start=p.start, end=p.end, department=p.department)
    return Table(
        "liability",
        "Points liability",
        [f"{p.group} starting", "net change", "outstanding at the end"],
        [[max(s.period, p.start).isoformat(), s.change, s.outstanding] for s in series],
        note=f"Outstanding now: {now.points:,} points in {now.accounts:,} accounts "
        f"({now.active_points:,} held by active employees). The first {p.group} starts with the period.",
        wide=True,
    )


FLOW_HEADERS = ["granted", "adjusted", "redeemed", "refunded", "redeemed net of refunds", "expired"]


def _flow_cells(f: Any) -> list[Any]:
    return [f.granted, f.adjusted, f.redeemed, f.refunded, f.redeemed_net, f.expired]


def report_flows(p: ReportParams) -> Table:
    flows = points_flows_by_period(period=p.group, start=p.start, end=p.end, department=p.department)
    return Table(
        "flows",
        f"Grants and redemptions by {p.group}",
        [f"{p.group} starting", *FLOW_HEADERS],
        [[max(f.key, p.start).isoformat(), *_flow_cells(f)] for f in flows],
        wide=True,
    )


def report_departments(p: ReportParams) -> Table:
    flows = points_flows_by_department(start=p.start, end=p.end)
    return Table(
        "departments",
        "Grants and redemptions by department",
        ["department", *FLOW_HEADERS],
        [[f.key or "(none)", *_flow_cells(f)] for f in flows],
        wide=True,
    )


def _report_products(p: ReportParams, *, by: str) -> Table:
    rows = products_top(
        limit=TOP_PRODUCTS,
        since=day_start(p.start),
        until=day_start(p.end + timedelta(days=1)),
        department=p.department,
        by=by,
    )
    return Table(
        "products" if by == "quantity" else "products-points",
        "Top products by units" if by == "quantity" else "Top products by points",
        ["product", "orders", "units", "points"],
        [[r["product__name"], r["orders"], r["quantity"], r["points"]] for r in rows],
        note="Delivered orders in the period (refunded ones are left out).",
    )


def report_products(p: ReportParams) -> Table:
    return _report_products(p, by="quantity")


def report_products_by_points(p: ReportParams) -> Table:
    return _report_products(p, by="points")


def report_expiring(p: ReportParams) -> Table:
    totals = points_expiring_windows(
        after=timezone.localdate(), windows=EXPIRY_WINDOWS, department=p.department
    )
    if totals is None:
        return Table("expiring", "Expiring points", ["within", "points"], note="Points never expire here.")
    return Table(
        "expiring",
        "Expiring points",
        ["within", "points"],
        [[f"{days} days", totals[days]] for days in EXPIRY_WINDOWS],
        note="Points that will expire if they are not spent, counted from today.",
    )


REPORTS: dict[str, Callable[[ReportParams], Table]] = {
    "liability": report_liability,
    "flows": report_flows,
    "departments": report_departments,
    "products": report_products,
    "products-points": report_products_by_points,
    "expiring": report_expiring,
}
DEFAULT_DAYS = 365


def _check(request: HttpRequest) -> None:
    if not request.user.has_perm(REPORT_PERMISSION):
        raise PermissionDenied


def reports_view(request: HttpRequest) -> TemplateResponse:
    _check(request)
    form, params = report_params(request.GET, default_days=DEFAULT_DAYS)
    context = {
        **admin.site.each_context(request),
        "title": "Reports",
        "form": form,
        "params": params,
        "tables": [build(params) for build in REPORTS.values()],
        "query": request.GET.urlencode(),
    }
    return TemplateResponse(request, "admin/hr/reports.html", context)


def report_csv_view(request: HttpRequest, name: str) -> HttpResponse:
    _check(request)
    build = REPORTS.get(name)
    if build is None:
        raise Http404("No such report.")
    _, params = report_params(request.GET, default_days=DEFAULT_DAYS)
    table = build(params)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.headers)
    writer.writerows([[_csv_safe(cell) for cell in row] for row in table.rows])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    suffix = f"-{slugify(params.department)}" if params.department else ""
    filename = f"{name}-{params.start.isoformat()}-{params.end.isoformat()}{suffix}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path("", admin.site.admin_view(reports_view), name="hr_reports"),
    path("<slug:name>.csv", admin.site.admin_view(report_csv_view), name="hr_report_csv"),
]
