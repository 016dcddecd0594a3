"""Product image URLs: signed when the bucket is private, absolute when served locally."""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from rest_framework.request import Request


def image_url(image: FieldFile | None, request: Request | None) -> str | None:
    if not image or not image.name:
        return None
    url = image.url
    if url.startswith("/") and request is not None:
        return request.build_absolute_uri(url)
    return url
