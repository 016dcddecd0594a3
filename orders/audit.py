"""Ledger audit: every rule the money model promises, checked against the stored data."""

from __future__ import annotations

from django.db.models import Count, F, Q, Sum

from orders.models import Order
from points.models import PointsAccount, PointsTransaction


def ledger_violations() -> list[str]:
    """Every account: balance = sum of its ledger, totals match, nothing negative, and every
    order has its redemption entry (and refunded orders their refund entry). Runs a fixed
    number of aggregate queries, whatever the number of accounts."""
    problems: list[str] = []
    sums = {
        row["account_id"]: row
        for row in PointsTransaction.objects.values("account_id").annotate(
            total=Sum("amount"),
            earned=Sum("amount", filter=Q(type="earned")),
            redeemed=Sum("amount", filter=Q(type="redeemed")),
            refunded=Sum("amount", filter=Q(type="refunded")),
            adjusted=Sum("amount", filter=Q(type="adjusted")),
            expired=Sum("amount", filter=Q(type="expired")),
        )
    }
    for account in PointsAccount.objects.select_related("user").order_by("user__email"):
        row = sums.get(account.pk, {})
        who = account.user.email
        ledger_total = row.get("total") or 0
        earned = row.get("earned") or 0
        redeemed = -(row.get("redeemed") or 0) - (row.get("refunded") or 0)
        adjusted = row.get("adjusted") or 0
        expired = -(row.get("expired") or 0)
        if account.balance < 0:
            problems.append(f"{who}: balance {account.balance} is negative")
        if account.balance != ledger_total:
            problems.append(f"{who}: balance {account.balance} != ledger sum {ledger_total}")
        if account.total_earned != earned:
            problems.append(f"{who}: total_earned {account.total_earned} != ledger {earned}")
        if account.total_redeemed != redeemed:
            problems.append(f"{who}: total_redeemed {account.total_redeemed} != ledger {redeemed}")
        if account.total_adjusted != adjusted:
            problems.append(f"{who}: total_adjusted {account.total_adjusted} != ledger {adjusted}")
        if account.total_expired != expired:
            problems.append(f"{who}: total_expired {account.total_expired} != ledger {expired}")
    negative_after = PointsTransaction.objects.filter(balance_after__lt=0).count()
    if negative_after:
        problems.append(f"{negative_after} ledger entries have a negative balance_after")
    orders = Order.objects.annotate(
        redeemed=Count("ledger_entries", filter=Q(ledger_entries__type="redeemed")),
        refunded=Count("ledger_entries", filter=Q(ledger_entries__type="refunded")),
    ).filter(
        Q(redeemed=0)
        | Q(status=Order.Status.REFUNDED, refunded=0)
        | Q(status=Order.Status.DELIVERED, refunded__gt=0)
    )
    for order in orders.values("id", "status", "redeemed", "refunded"):
        if order["redeemed"] == 0:
            problems.append(f"order {order['id']} has no redemption ledger entry")
        elif order["status"] == Order.Status.REFUNDED:
            problems.append(f"refunded order {order['id']} has no refund ledger entry")
        else:
            problems.append(f"order {order['id']} is not refunded but has a refund entry")
    mismatched = (
        PointsTransaction.objects.filter(type="redeemed").exclude(amount=-F("order__points_used")).count()
    )
    if mismatched:
        problems.append(f"{mismatched} redemption entries do not match their order's points_used")
    return problems
