"""Product images on S3 (a moto server standing in for a private bucket): an upload from the
admin lands re-encoded in the bucket, and the API's signed URL for it can be fetched."""

from __future__ import annotations

import io
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from catalog.images import MAX_STORED_BYTES
from catalog.models import Category, Product
from tests.admin.conftest import make_image_bytes

REGION = "us-east-2"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, settings: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    # Dummy credentials only: nothing here may reach a real AWS account.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    bucket = f"awsomeshop-images-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **CREDENTIALS)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "region_name": REGION,
                "endpoint_url": s3_endpoint,
                "access_key": "testing",
                "secret_key": "testing",
                "addressing_style": "path",
                "signature_version": "s3v4",
                "querystring_auth": True,
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    return client, bucket


def test_admin_upload_lands_in_the_bucket_reencoded_and_the_api_signs_its_url(
    s3_bucket, hr_client, employee, client_for
):
    client, bucket = s3_bucket
    category = Category.objects.create(name="Tech", slug="tech")
    photo = make_image_bytes("PNG", (1800, 1400), noise=True)  # ~7.5 MB: under the upload limit
    assert len(photo) > 10 * MAX_STORED_BYTES
    response = hr_client.post(
        reverse("admin:catalog_product_add"),
        {
            "name": "Camera",
            "description": "",
            "category": str(category.pk),
            "points_cost": "900",
            "is_active": "on",
            "initial_stock": "3",
            "image_upload": SimpleUploadedFile("camera.png", photo, content_type="image/png"),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(name="Camera")

    keys = {o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {product.image.name, product.thumbnail.name}
    stored = client.get_object(Bucket=bucket, Key=product.image.name)["Body"].read()
    assert len(stored) <= MAX_STORED_BYTES
    assert Image.open(io.BytesIO(stored)).format == "WEBP"
    assert (
        Image.open(
            io.BytesIO(client.get_object(Bucket=bucket, Key=product.thumbnail.name)["Body"].read())
        ).size[0]
        <= 320
    )

    body = client_for(employee).get(f"/api/v1/products/{product.pk}/").json()
    url = body["image_url"]
    assert url.startswith(f"{client.meta.endpoint_url}/{bucket}/") and "X-Amz-Signature=" in url
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == stored
