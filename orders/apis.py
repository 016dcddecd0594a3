"""Employee API: place an order (idempotently), list and read my orders."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.images import image_url
from catalog.models import Product
from orders.filters import OrderFilter
from orders.idempotency import is_valid_key
from orders.models import Order
from orders.placement import order_body, order_place_idempotent
from orders.selectors import order_list
from orders.services import MAX_QUANTITY
from shop.access.authentication import request_employee
from shop.http.errors import IdempotencyKeyRequired
from shop.http.fields import StrictIntegerField
from shop.http.throttling import OrderPlacementThrottle


@extend_schema_serializer(component_name="ProductRef")
class ProductRefSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "name", "image_url"]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_image_url(self, obj: Product) -> str | None:
        return image_url(obj.image, self.context.get("request"))


@extend_schema_serializer(component_name="Order")
class OrderOutputSerializer(serializers.ModelSerializer):
    product = ProductRefSerializer()

    class Meta:
        model = Order
        fields = [
            "id",
            "product",
            "quantity",
            "unit_points_cost",
            "points_used",
            "status",
            "created_at",
            "balance_after",
        ]


IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    # The same rule as orders.idempotency.is_valid_key, so that the schema tells the truth.
    type={"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "Required: 1-255 printable ASCII characters, new for each order, scoped to the caller. "
        "The same key with the same body within 24 hours replays the first response (header "
        "Idempotent-Replayed: true); with a different body it is refused with 422 "
        "idempotency_key_reused. Without it the order is refused with 428 "
        "idempotency_key_required."
    ),
)


class OrderListCreateApi(ListAPIView):
    @extend_schema_serializer(component_name="OrderCreate")
    class InputSerializer(serializers.Serializer):
        product_id = serializers.UUIDField()
        quantity = StrictIntegerField(
            min_value=1,
            max_value=MAX_QUANTITY,
            default=1,
            help_text="A JSON integer: a number written with a fraction or exponent (5.0, 5e0) is "
            "refused with 400 validation_error.",
        )

    serializer_class = OrderOutputSerializer
    filterset_class = OrderFilter
    # Limits POST only (placing orders); listing is not throttled.
    throttle_classes = [OrderPlacementThrottle]
    # Names the model for the schema generator, which has no employee to list orders for
    # (`check --deploy` reported drf_spectacular.W001); requests use get_queryset.
    queryset = Order.objects.none()

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):
            # Schema generation has no caller; without this the list filters go undocumented.
            return Order.objects.none()
        return order_list(user=request_employee(self.request))

    @extend_schema(
        request=InputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: OrderOutputSerializer,
            409: OpenApiResponse(
                description="insufficient_points, out_of_stock, product_unavailable or "
                "idempotency_request_in_progress; nothing was changed."
            ),
            422: OpenApiResponse(description="idempotency_key_reused"),
            428: OpenApiResponse(description="idempotency_key_required: no Idempotency-Key header."),
            503: OpenApiResponse(
                description="service_unavailable: nothing was changed. outcome_unknown: the "
                "connection was lost during the commit; retry with the same Idempotency-Key."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        # The key is checked first: without one, a lost answer cannot be retried safely, so the
        # request is refused whatever its body.
        key = request.headers.get("Idempotency-Key")
        if key is None:
            raise IdempotencyKeyRequired()
        if not is_valid_key(key):
            raise serializers.ValidationError(
                {"Idempotency-Key": ["Must be 1-255 printable ASCII characters."]}
            )
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        placement = order_place_idempotent(
            user=request_employee(request),
            product_id=data["product_id"],
            quantity=data["quantity"],
            key=key,
            body_for=lambda order: order_body(order, request),
        )
        headers = {"Idempotent-Replayed": "true"} if placement.replayed else None
        return Response(placement.body, status=placement.status, headers=headers)


class OrderDetailApi(RetrieveAPIView):
    serializer_class = OrderOutputSerializer
    filter_backends: list[Any] = []

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return order_list(user=request_employee(self.request))
