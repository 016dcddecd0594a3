"""Filters shared by the list endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError


class DateOrDateTimeField(forms.Field):
    """Accepts an ISO date (2026-11-22) or datetime (2026-11-22T10:00:00Z); naive means UTC."""

    default_error_messages = {"invalid": "Enter an ISO 8601 date or date-time."}

    def __init__(self, *args: Any, end_of_day: bool = False, **kwargs: Any):
        self.end_of_day = end_of_day
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in (None, ""):
            return None
        # Not stripped: the schema says date or date-time, and " 2026-01-01" is neither.
        text = str(value)
        try:
            parsed_dt = parse_datetime(text)
            if parsed_dt is None:
                parsed_date = parse_date(text)
                if parsed_date is None:
                    raise ValueError
                time = dt.time.max if self.end_of_day else dt.time.min
                parsed_dt = dt.datetime.combine(parsed_date, time)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if timezone.is_naive(parsed_dt):
            parsed_dt = timezone.make_aware(parsed_dt, dt.UTC)
        try:
            # Normalise to UTC: databases limit offsets (PostgreSQL to under 16 hours) while
            # ISO 8601 allows up to 24; the instant is what matters.
            return parsed_dt.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


@extend_schema_field({"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]})
class DateOrDateTimeFilter(django_filters.Filter):
    field_class = DateOrDateTimeField

    def __init__(self, *args: Any, end_of_day: bool = False, **kwargs: Any):
        kwargs.setdefault("help_text", "ISO 8601 date or date-time (UTC when no offset is given).")
        super().__init__(*args, **kwargs)
        self.extra["end_of_day"] = end_of_day


class StrictBooleanField(forms.Field):
    default_error_messages = {"invalid": "Enter true or false."}
    _VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        try:
            return self._VALUES[str(value)]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


@extend_schema_field({"type": "string", "enum": ["true", "false", "1", "0"]})
class StrictBooleanFilter(django_filters.Filter):
    """`true`/`false` (or 1/0), exactly; anything else is a 400 rather than silently ignored."""

    field_class = StrictBooleanField


MAX_FILTER_INT = 2**31 - 1


class StrictIntegerField(forms.Field):
    """Digits only: "1.0", "1e3", " 7" and "+7" are 400s rather than rounded or stripped."""

    default_error_messages = {"invalid": f"Enter a whole number from 0 to {MAX_FILTER_INT}."}

    def to_python(self, value: Any) -> int | None:
        if value in (None, ""):
            return None
        text = str(value)
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_FILTER_INT:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(text)


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_FILTER_INT})
class StrictIntegerFilter(django_filters.Filter):
    """A non-negative integer filter; documented as such in the schema."""

    field_class = StrictIntegerField


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, except that a filter sent with no value (`?status=`) is a 400: an empty
    value is almost always a client's template gone wrong, and silently listing everything
    hides it."""

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            names = set(filterset_class.base_filters)
            empty = {
                name: ["Must not be empty; leave the parameter out instead."]
                for name, values in request.query_params.lists()
                if name in names and any(value == "" for value in values)
            }
            if empty:
                raise ValidationError(empty)
        return super().filter_queryset(request, queryset, view)
