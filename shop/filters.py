"""Filters shared by the list endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


class DateOrDateTimeField(forms.Field):
    """Accepts an ISO date (2026-11-22) or datetime (2026-11-22T10:00:00Z); naive means UTC."""

    default_error_messages = {"invalid": "Enter an ISO 8601 date or date-time."}

    def __init__(self, *args: Any, end_of_day: bool = False, **kwargs: Any):
        self.end_of_day = end_of_day
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in (None, ""):
            return None
        text = str(value).strip()
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
            return self._VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class StrictBooleanFilter(django_filters.Filter):
    """`true`/`false` (or 1/0); anything else is a 400 rather than silently ignored."""

    field_class = StrictBooleanField
