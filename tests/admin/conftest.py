"""Fixtures for the back-office tests: an HR user (staff, HR group), a superuser, their clients."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from PIL import Image

from shop.access.roles import HR_GROUP_NAME
from shop.identity.services import user_create
from shop.models import User


@pytest.fixture
def hr_user(db: None) -> User:
    user = user_create(email="hr@example.com", name="Hana HR", password="hr-password-1", is_staff=True)
    user.groups.add(Group.objects.get(name=HR_GROUP_NAME))
    return user


@pytest.fixture
def hr_client(hr_user: User) -> Client:
    client = Client()
    client.force_login(hr_user)
    return client


@pytest.fixture
def superuser(db: None) -> User:
    return User.objects.create_superuser("root@example.com", "root-password-1", name="Root")


@pytest.fixture
def super_client(superuser: User) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def staff_without_group(db: None) -> Client:
    user = user_create(email="staff@example.com", name="No Role", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def make_image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (800, 600), mode: str = "RGB", noise: bool = False, **save: Any
) -> bytes:
    if noise:
        import os

        image = Image.frombytes(mode, size, os.urandom(size[0] * size[1] * len(mode)))
    else:
        image = Image.new(mode, size, (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


@pytest.fixture
def image_bytes() -> Callable[..., bytes]:
    return make_image_bytes
