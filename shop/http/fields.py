"""Serializer fields that take JSON's types at their word."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF's own field also takes "2", 2.0 and true, which the contract
    calls wrong types (400)."""

    default_error_messages = {"invalid": "Must be a JSON integer (not a string, a decimal or a boolean)."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)
