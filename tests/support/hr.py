"""HR users for the separation-of-duties tests: staff in the HR group, optionally on the roster."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group

from shop.models import User
from shop.roles import HR_GROUP_NAME
from shop.services import user_create


def make_hr(email: str, **kwargs: Any) -> User:
    kwargs.setdefault("is_employee", False)  # HR-only unless a test puts them on the roster
    user = user_create(email=email, name=email.split("@")[0].title(), is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=HR_GROUP_NAME))
    return user
