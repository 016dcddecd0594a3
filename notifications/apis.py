"""Employee API: my e-mail preference."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.services import preference_get, preference_set
from shop.access.authentication import request_employee


class NotificationPreferenceApi(APIView):
    @extend_schema_serializer(component_name="NotificationPreference")
    class PreferenceSerializer(serializers.Serializer):
        optional_emails = serializers.BooleanField(
            help_text="E-mails about points received and points expiring soon. Order and refund "
            "receipts are always sent."
        )

        def to_internal_value(self, data: object) -> object:
            if not isinstance(data, dict):
                raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
            value = data.get("optional_emails")
            if "optional_emails" in data and not isinstance(value, bool):
                # DRF's BooleanField also takes "yes", 1 and "off": the contract says true or false.
                raise serializers.ValidationError({"optional_emails": ["Must be true or false."]})
            return super().to_internal_value(data)

    @extend_schema(responses=PreferenceSerializer, operation_id="me_notifications_retrieve")
    def get(self, request: Request) -> Response:
        preference = preference_get(user=request_employee(request))
        return Response(self.PreferenceSerializer(preference).data)

    @extend_schema(
        request=PreferenceSerializer, responses=PreferenceSerializer, operation_id="me_notifications_update"
    )
    def put(self, request: Request) -> Response:
        serializer = self.PreferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preference = preference_set(
            user=request_employee(request), optional_emails=serializer.validated_data["optional_emails"]
        )
        return Response(self.PreferenceSerializer(preference).data)
