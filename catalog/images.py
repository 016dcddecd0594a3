"""Product images: validation and re-encoding of uploads, and their URLs (signed on S3).

An upload is checked to be a real image (Pillow decodes it, whatever its name or declared
type), rotated upright by its EXIF orientation, stripped of metadata (EXIF can carry GPS
positions and camera serials), and re-encoded as WebP of at most MAX_STORED_BYTES, which keeps
transparency, plus a small thumbnail. Files go to the default storage: the private S3 bucket
when S3_BUCKET_NAME is set, local media otherwise.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import IO

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from PIL import Image, ImageOps, UnidentifiedImageError
from rest_framework.request import Request

from catalog.models import Product
from shop.http.errors import ApplicationError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_STORED_BYTES = 500 * 1024
MAX_PIXELS = 40_000_000  # ~ an 8000x5000 photo; more is a decompression bomb, not a product shot
MAX_DIMENSION = 2000
THUMBNAIL_SIZE = (320, 320)
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
_QUALITIES = (85, 75, 65, 50, 40)


class InvalidImage(ApplicationError):
    status_code = 400
    code = "validation_error"
    default_detail = "The file is not an image we can use."


@dataclass
class EncodedImage:
    image: bytes
    thumbnail: bytes
    width: int
    height: int


def image_url(image: FieldFile | None, request: HttpRequest | Request | None) -> str | None:
    if not image or not image.name:
        return None
    url = image.url
    if url.startswith("/") and request is not None:
        return request.build_absolute_uri(url)
    return url


def image_read_upload(upload: IO[bytes], *, size: int | None = None) -> bytes:
    """Read an upload, refusing anything over MAX_UPLOAD_BYTES without reading all of it."""
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise InvalidImage(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidImage(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    return data


def image_open(data: bytes) -> Image.Image:
    """Decode `data` fully, or raise InvalidImage: the name and declared type are not trusted."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise InvalidImage(f"{probe.format} images are not accepted; use JPEG, PNG, WebP or GIF.")
            if probe.width * probe.height > MAX_PIXELS:
                raise InvalidImage("The image has too many pixels.")
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except InvalidImage:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage("The file is not a valid image (JPEG, PNG, WebP or GIF).") from exc
    return image


def _clean(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image) or image
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    clean = image.convert("RGBA" if has_alpha else "RGB")
    # A fresh info dict: EXIF, XMP and comments are never written out.
    clean.info = {}
    if max(clean.size) > MAX_DIMENSION:
        clean.thumbnail((MAX_DIMENSION, MAX_DIMENSION), Image.Resampling.LANCZOS)
    return clean


def _webp(image: Image.Image, *, limit: int) -> bytes:
    while True:
        for quality in _QUALITIES:
            buffer = io.BytesIO()
            image.save(buffer, "WEBP", quality=quality, method=4)
            if buffer.tell() <= limit:
                return buffer.getvalue()
        # Still too big at the lowest quality we accept: make it smaller instead.
        width, height = image.size
        image = image.resize((max(1, width * 3 // 4), max(1, height * 3 // 4)), Image.Resampling.LANCZOS)


def image_encode(data: bytes) -> EncodedImage:
    """Re-encode an upload to WebP <= MAX_STORED_BYTES and a THUMBNAIL_SIZE thumbnail."""
    clean = _clean(image_open(data))
    main = _webp(clean, limit=MAX_STORED_BYTES)
    thumb_image = clean.copy()
    thumb_image.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    thumbnail = _webp(thumb_image, limit=MAX_STORED_BYTES)
    return EncodedImage(image=main, thumbnail=thumbnail, width=clean.width, height=clean.height)


def product_image_set(*, product: Product, data: bytes) -> Product:
    """Store a product's new image and thumbnail (re-encoded) and drop the old files after commit."""
    encoded = image_encode(data)
    old_names = [name for name in (product.image.name, product.thumbnail.name) if name]
    stem = uuid.uuid4().hex[:12]
    product.image.save(f"{stem}.webp", ContentFile(encoded.image), save=False)
    product.thumbnail.save(f"{stem}-thumb.webp", ContentFile(encoded.thumbnail), save=False)
    product.save(update_fields=["image", "thumbnail", "updated_at"])
    storage = product.image.storage

    def _delete_old() -> None:
        for name in old_names:
            storage.delete(name)

    # Old files go only once the new names are committed: a rollback keeps the old image.
    transaction.on_commit(_delete_old)
    return product
