"""HR users for the separation-of-duties tests: staff in the HR group, optionally on the roster."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

from shop.access.roles import HR_GROUP_NAME, HR_PERMISSIONS
from shop.identity.services import user_create
from shop.models import User


def hr_group() -> Group:
    """The migrated HR group; rebuilt from shop.access.roles after a transactional test's flush removed it."""
    group, created = Group.objects.get_or_create(name=HR_GROUP_NAME)
    if created:
        for name in HR_PERMISSIONS:
            app_label, codename = name.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return group


def make_hr(email: str, **kwargs: Any) -> User:
    kwargs.setdefault("is_employee", False)  # HR-only unless a test puts them on the roster
    user = user_create(email=email, name=email.split("@")[0].title(), is_staff=True, **kwargs)
    user.groups.add(hr_group())
    return user
