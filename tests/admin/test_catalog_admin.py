"""Catalog in the admin: products with validated, re-encoded images; stock changes with who and why."""

from __future__ import annotations

import io

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from catalog.images import MAX_STORED_BYTES, InvalidImage, image_encode
from catalog.models import Category, Product, StockMovement
from tests.admin.conftest import make_image_bytes
from tests.factories import ProductFactory


def _exif_jpeg() -> bytes:
    image = Image.new("RGB", (600, 400), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90 degrees
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def test_encode_strips_exif_and_applies_orientation():
    encoded = image_encode(_exif_jpeg())
    out = Image.open(io.BytesIO(encoded.image))
    assert out.format == "WEBP"
    assert out.size == (400, 600)  # rotated upright
    assert not out.getexif()
    assert b"SecretCam" not in encoded.image


def test_encode_keeps_transparency():
    out = Image.open(io.BytesIO(image_encode(make_image_bytes("PNG", (300, 300), "RGBA")).image))
    assert out.mode == "RGBA" and out.getpixel((5, 5))[3] == 128


def test_large_noisy_photo_is_reencoded_under_500_kb_with_a_thumbnail():
    data = make_image_bytes("PNG", (2400, 1800), noise=True)
    assert len(data) > 5 * MAX_STORED_BYTES
    encoded = image_encode(data)
    assert len(encoded.image) <= MAX_STORED_BYTES
    thumb = Image.open(io.BytesIO(encoded.thumbnail))
    assert max(thumb.size) <= 320 and thumb.format == "WEBP"


@pytest.mark.parametrize(
    "data",
    [b"not an image at all", b"GIF89a" + b"\x00" * 50, make_image_bytes("BMP", (10, 10))],
    ids=["text", "truncated-gif", "bmp"],
)
def test_non_images_and_unaccepted_types_are_refused(data):
    with pytest.raises(InvalidImage):
        image_encode(data)


def _product_form(**extra):
    category = Category.objects.get_or_create(name="Tech", slug="tech")[0]
    return {
        "name": "Earbuds",
        "description": "",
        "category": str(category.pk),
        "points_cost": "300",
        "is_active": "on",
        **extra,
    }


def test_add_product_with_image_and_initial_stock(hr_client, hr_user):
    upload = SimpleUploadedFile("photo.jpg", _exif_jpeg(), content_type="image/jpeg")
    response = hr_client.post(
        reverse("admin:catalog_product_add"), _product_form(initial_stock="12", image_upload=upload)
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(name="Earbuds")
    assert product.stock == 12
    move = StockMovement.objects.get(product=product)
    assert (move.delta, move.reason, move.note, move.created_by) == (12, "restock", "Initial stock", hr_user)
    assert product.image.name.endswith(".webp") and product.thumbnail.name.endswith("-thumb.webp")
    with product.image.open("rb") as f:
        stored = f.read()
    assert len(stored) <= MAX_STORED_BYTES and b"SecretCam" not in stored
    changelist = hr_client.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert product.thumbnail.url in changelist


def test_upload_that_is_not_an_image_is_refused_with_a_message(hr_client):
    upload = SimpleUploadedFile("photo.jpg", b"<?php evil(); ?>", content_type="image/jpeg")
    response = hr_client.post(
        reverse("admin:catalog_product_add"), _product_form(initial_stock="1", image_upload=upload)
    )
    assert response.status_code == 200
    assert "not a valid image" in response.content.decode()
    assert not Product.objects.exists()


def test_upload_over_10_mb_is_refused(hr_client):
    upload = SimpleUploadedFile(
        "big.png", b"\x89PNG" + b"\x00" * (10 * 1024 * 1024 + 1), content_type="image/png"
    )
    response = hr_client.post(
        reverse("admin:catalog_product_add"), _product_form(initial_stock="1", image_upload=upload)
    )
    assert "larger than 10 MB" in response.content.decode()


def test_stock_is_not_editable_in_the_product_form(hr_client, product):
    data = _product_form(stock="999")
    response = hr_client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)
    assert response.status_code == 302
    assert Product.objects.get(pk=product.pk).stock == 5


def test_change_stock_records_who_and_why(hr_client, hr_user, product):
    url = reverse("admin:catalog_product_stock", args=[product.pk])
    assert (
        "Change stock"
        in hr_client.get(reverse("admin:catalog_product_change", args=[product.pk])).content.decode()
    )
    response = hr_client.post(url, {"change": "20", "reason": "restock", "note": "Delivery 42"})
    assert response.status_code == 302
    assert Product.objects.get(pk=product.pk).stock == 25
    move = StockMovement.objects.get(product=product)
    assert (move.delta, move.reason, move.note, move.created_by) == (20, "restock", "Delivery 42", hr_user)
    assert LogEntry.objects.filter(
        object_id=str(product.pk), user=hr_user, change_message__contains="Stock +20"
    ).exists()


def test_change_stock_below_zero_is_refused(hr_client, product):
    response = hr_client.post(
        reverse("admin:catalog_product_stock", args=[product.pk]),
        {"change": "-6", "reason": "correction", "note": "Lost"},
    )
    assert response.status_code == 200
    assert "Stock cannot go below zero" in response.content.decode()
    assert Product.objects.get(pk=product.pk).stock == 5
    assert not StockMovement.objects.exists()


def test_change_stock_needs_the_permission(staff_without_group, product):
    response = staff_without_group.post(
        reverse("admin:catalog_product_stock", args=[product.pk]),
        {"change": "5", "reason": "restock", "note": "x"},
    )
    assert response.status_code == 403


def test_stock_movements_are_visible_but_read_only(hr_client, super_client, product):
    from catalog.services import product_stock_adjust

    move = product_stock_adjust(
        product_id=product.pk, delta=3, reason="restock", note="Delivery", changed_by=None
    )
    assert "Delivery" in hr_client.get(reverse("admin:catalog_stockmovement_changelist")).content.decode()
    for client in (hr_client, super_client):
        assert client.get(reverse("admin:catalog_stockmovement_add")).status_code == 403
        url = reverse("admin:catalog_stockmovement_change", args=[move.pk])
        assert client.post(url, {"delta": "100", "note": "x"}).status_code == 403
    move.refresh_from_db()
    assert move.delta == 3


def test_hr_cannot_delete_products(hr_client):
    product = ProductFactory()
    url = reverse("admin:catalog_product_delete", args=[product.pk])
    assert hr_client.post(url, {"post": "yes"}).status_code == 403
    assert Product.objects.filter(pk=product.pk).exists()
