"""Employee API: place an order (idempotently), list and read my orders."""

from __future__ import annotations

import contextlib
from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.images import image_url
from catalog.models import Product
from orders.filters import OrderFilter
from orders.idempotency import (
    Claim,
    KeyTaken,
    NewKey,
    RefusalNotRecorded,
    Replay,
    idempotency_claim,
    idempotency_record_failure,
    idempotency_release,
    idempotency_store_refusal,
    is_valid_key,
    request_fingerprint,
)
from orders.models import Order
from orders.selectors import order_list
from orders.services import MAX_QUANTITY, order_place
from shop.authentication import request_employee
from shop.errors import ApplicationError, IdempotencyKeyRequired, error_body
from shop.fields import StrictIntegerField
from shop.throttling import OrderPlacementThrottle


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
        request_hash = request_fingerprint(
            {"product_id": str(data["product_id"]), "quantity": data["quantity"]}
        )
        stored: dict[str, Any] = {}

        def respond_and_keep(order: Order) -> Any:
            stored["body"] = order_body(order, request)
            return stored["body"]

        # The common case in one transaction: claim the key, order, store the response. If the
        # connection is lost during its COMMIT (503 outcome_unknown), the key's row and the order
        # were committed together or not at all, so a retry with the key replays or orders once.
        new_key = NewKey(user=request_employee(request), key=key, request_hash=request_hash)
        try:
            order_place(
                user=request_employee(request),
                product_id=data["product_id"],
                quantity=data["quantity"],
                new_key=new_key,
                response_for=respond_and_keep,
            )
        except KeyTaken:
            pass  # the key has a row: replay it, or take over an abandoned claim, below
        except ApplicationError as exc:
            if exc.status_code != 409:
                raise
            # A refusal is an answer: a retry with the same key replays it. If the key has a
            # row already, an earlier request with it answered first (its order may be what
            # left too little stock or too few points for this one): that answer is replayed.
            try:
                recorded = idempotency_store_refusal(
                    new_key=new_key, status=exc.status_code, body=error_body(exc.code, exc.detail)
                )
            except RefusalNotRecorded:
                # The refusal is what happened; only its record is in doubt (see there).
                raise type(exc)(f"{exc.detail} {REFUSAL_NOT_RECORDED}", extra=exc.extra) from None
            if recorded:
                raise
        else:
            return Response(stored["body"], status=status.HTTP_201_CREATED)

        outcome = idempotency_claim(user=request_employee(request), key=key, request_hash=request_hash)
        if isinstance(outcome, Replay):
            return Response(outcome.body, status=outcome.status, headers={"Idempotent-Replayed": "true"})

        try:
            order_place(
                user=request_employee(request),
                product_id=data["product_id"],
                quantity=data["quantity"],
                claim=outcome,
                response_for=respond_and_keep,
            )
        except ApplicationError as exc:
            if exc.status_code == 409 and exc.code != "idempotency_request_in_progress":
                # A refusal is an answer: a retry with the same key replays it.
                idempotency_record_failure(
                    claim=outcome, status=exc.status_code, body=error_body(exc.code, exc.detail)
                )
            else:
                _release_quietly(outcome)
            raise
        except Exception:
            _release_quietly(outcome)
            raise
        return Response(stored["body"], status=status.HTTP_201_CREATED)


def _release_quietly(claim: Claim) -> None:
    """Free the key so a retry can run. After an outcome_unknown this is still right: a
    committed order completed the record, which a release leaves alone. If the database is
    unreachable this fails too, and the claim is taken over after IDEMPOTENCY_STALE_SECONDS;
    the error the client gets is the original one."""
    with contextlib.suppress(Exception):
        idempotency_release(claim)


REFUSAL_NOT_RECORDED = (
    "Nothing was ordered. The connection to the database was lost while this refusal was being "
    "recorded, so a retry with the same Idempotency-Key is processed again rather than replayed."
)

# One instance formats every order's created_at exactly as the serializer's field does.
_DATETIME_FIELD = serializers.DateTimeField()


def order_body(order: Order, request: Request) -> dict[str, Any]:
    """OrderOutputSerializer's output for a just-placed order, built directly.

    Placing an order is the hot write path and builds this once per order; the serializer
    spends more CPU constructing its fields than the order's statements cost. The result is
    JSON-ready as stored with the key and as sent. A test holds it equal to the serializer's.
    """
    product = order.product
    return {
        "id": str(order.pk),
        "product": {
            "id": str(product.pk),
            "name": product.name,
            "image_url": image_url(product.image, request),
        },
        "quantity": order.quantity,
        "unit_points_cost": order.unit_points_cost,
        "points_used": order.points_used,
        "status": str(order.status),
        "created_at": _DATETIME_FIELD.to_representation(order.created_at),
        "balance_after": order.balance_after,
    }


class OrderDetailApi(RetrieveAPIView):
    serializer_class = OrderOutputSerializer
    filter_backends: list[Any] = []

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return order_list(user=request_employee(self.request))
