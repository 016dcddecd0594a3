"""The project's user model: an employee, signed in through Cognito (or the local issuer)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        from shop.services import user_create

        return user_create(email=email, password=password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        # An operations account, not a person on the roster: it holds and receives no points.
        extra.setdefault("is_employee", False)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person or account known to the shop.

    ``is_employee`` marks the roster: employees hold points and receive grants. ``is_staff``
    marks HR users of the admin; an HR user may also be an employee (and then receives grants
    from other HR users, never from themselves). Operations superusers are not employees.

    Email is the login and is stored lower-cased, so lookups never depend on case.
    `cognito_sub` links the record to its Cognito identity once the employee signs in.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=200, blank=True)
    employee_id = models.CharField(max_length=64, blank=True, null=True, unique=True)
    cognito_sub = models.CharField(max_length=64, blank=True, null=True, unique=True)
    department = models.CharField(max_length=100, blank=True, default="")
    is_employee = models.BooleanField(
        default=True,
        help_text="On the employee roster: may sign in to the API and receive points. "
        "Off for accounts that exist only to run the back office (operations superusers, HR-only).",
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    class Meta:
        verbose_name = "employee"
        verbose_name_plural = "employees"
        ordering = ("email",)
        constraints = [
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="user_email_lowercase"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email
