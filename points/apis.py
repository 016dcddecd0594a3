"""Employee API: my profile and balance, and my ledger."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from points.filters import LedgerFilter
from points.models import PointsTransaction
from points.selectors import account_get, ledger_list
from shop.authentication import request_employee


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

    @extend_schema(responses=OutputSerializer, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        user = request_employee(request)
        account = account_get(user=user)
        data = {
            "id": user.pk,
            "email": user.email,
            "name": user.name,
            "employee_id": user.employee_id,
            "balance": account.balance,
            "total_earned": account.total_earned,
            "total_redeemed": account.total_redeemed,
        }
        return Response(self.OutputSerializer(data).data)


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
