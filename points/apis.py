"""Employee API: my profile and balance, and my ledger."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from points.expiry import expiry_months
from points.filters import LedgerFilter
from points.models import PointsTransaction
from points.selectors import account_get, ledger_list, points_expiring
from shop.access.authentication import request_employee

EXPIRING_SOON_DAYS = 30


@extend_schema_serializer(component_name="ExpiringPoints")
class ExpiringSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    date = serializers.DateField()


class MeApi(APIView):
    @extend_schema_serializer(component_name="Me")
    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        email = serializers.EmailField()
        name = serializers.CharField()
        employee_id = serializers.CharField(allow_null=True)
        balance = serializers.IntegerField()
        total_earned = serializers.IntegerField()
        total_redeemed = serializers.IntegerField()
        total_expired = serializers.IntegerField()
        expiring_soon = ExpiringSerializer(
            allow_null=True,
            help_text=f"Points that expire within {EXPIRING_SOON_DAYS} days, and the first date; "
            "null when none do (or points never expire).",
        )

    # The serializer above documents the answer; the view writes the same JSON types itself
    # (strings, ints, an ISO date), since running a serializer per request was a fifth of this
    # endpoint's CPU (bench/RESULTS.md, "Read endpoints"). tests/points pin the equality.
    @extend_schema(responses=OutputSerializer, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        user = request_employee(request)
        account = account_get(user=user)
        data: dict[str, Any] = {
            "id": str(user.pk),
            "email": user.email,
            "name": user.name,
            "employee_id": user.employee_id,
            "balance": account.balance,
            "total_earned": account.total_earned,
            "total_redeemed": account.total_redeemed,
            "total_expired": account.total_expired,
            "expiring_soon": None,
        }
        if expiry_months() > 0:
            soon = points_expiring(user_id=user.pk, after=timezone.localdate(), days=EXPIRING_SOON_DAYS)
            if soon.points and soon.expires_on is not None:
                data["expiring_soon"] = {"points": soon.points, "date": soon.expires_on.isoformat()}
        return Response(data)


class TransactionListApi(ListAPIView):
    @extend_schema_serializer(component_name="PointsTransaction")
    class OutputSerializer(serializers.ModelSerializer):
        order_id = serializers.UUIDField(allow_null=True)

        class Meta:
            model = PointsTransaction
            fields = ["id", "type", "amount", "balance_after", "description", "order_id", "created_at"]

    serializer_class = OutputSerializer
    filterset_class = LedgerFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return PointsTransaction.objects.none()
        return ledger_list(user=request_employee(self.request))
