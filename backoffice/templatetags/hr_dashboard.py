"""The HR dashboard shown on the admin index: weekly points chart, top products, low stock,
employees with unspent points, grant requests waiting for approval. A handful of grouped queries, whatever the data size."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.utils import timezone

from backoffice.reports import report_params
from catalog.selectors import LOW_STOCK_THRESHOLD, products_low_stock
from orders.selectors import products_top
from points.selectors import (
    day_start,
    grant_requests_pending,
    period_start,
    periods_between,
    points_expiring_total,
    points_flows_by_period,
    points_unspent_summary,
)
from shop.admin_kit.charts import GRANTED_COLOUR, REDEEMED_COLOUR, weekly_flows_svg

register = template.Library()

DASHBOARD_DAYS = 12 * 7
MAX_CHART_WEEKS = 104


@register.filter
def hr_number(value: Any) -> Any:
    """Whole numbers as HR reads them on a page (22,865, not 22865); anything else unchanged.
    The CSV downloads keep plain numbers."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return value


@register.inclusion_tag("admin/hr/dashboard.html", takes_context=True)
def hr_dashboard(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    if not user.has_perm("points.view_pointstransaction"):
        return {"show": False}
    # The period and department come from GET parameters (the reports' own form): by default
    # the last 12 weeks and every department.
    form, params = report_params(context["request"].GET, default_days=DASHBOARD_DAYS)
    department = params.department
    weeks = min(len(periods_between(params.start, params.end, "week")), MAX_CHART_WEEKS)
    # The chart's weeks: the last `weeks` whole weeks up to the period's end (the reports' query).
    first_week = period_start(params.end, "week") - timedelta(weeks=weeks - 1)
    flows = points_flows_by_period(period="week", start=first_week, end=params.end, department=department)
    pending_count, pending = grant_requests_pending(limit=5)
    unspent = points_unspent_summary(limit=10, department=department)
    expiring = points_expiring_total(after=timezone.localdate(), days=30, department=department)
    since, until = day_start(params.start), day_start(params.end + timedelta(days=1))
    return {
        "show": True,
        "filter_form": form,
        "query": context["request"].GET.urlencode(),
        "params": params,
        "weeks": weeks,
        "chart": weekly_flows_svg(flows),
        "granted_colour": GRANTED_COLOUR,
        "redeemed_colour": REDEEMED_COLOUR,
        "granted_total": sum(f.granted for f in flows),
        "redeemed_total": sum(f.redeemed for f in flows),
        "top_products": products_top(limit=10, since=since, until=until, department=department),
        "low_stock": list(products_low_stock(limit=10)),
        "low_stock_threshold": LOW_STOCK_THRESHOLD,
        "unspent": unspent,
        # Liability net of expiry: what is held, less what of it expires within 30 days.
        "expiring_30_days": expiring,
        "liability_net_of_expiry": max(0, unspent.points - (expiring or 0)),
        "pending_count": pending_count,
        "pending": pending,
    }
