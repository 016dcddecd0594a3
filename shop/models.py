"""The project's user model: an employee, signed in through Cognito (or the local issuer)."""

from __future__ import annotations

import uuid
from importlib import import_module
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shop.signals import users_created


def normalize_email(email: str) -> str:
    """How an email is stored and looked up: the login ignores case and surrounding spaces."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self,
        email: str,
        password: str | None = None,
        *,
        name: str = "",
        employee_id: str | None = None,
        cognito_sub: str | None = None,
        **extra: Any,
    ) -> User:
        # The one insert of a new user, whoever asks (shop.identity.services.user_create, Django's
        # createsuperuser, tests), so every new user gets its points account. It is here rather
        # than in the service because a model module may not import a service.
        with transaction.atomic():
            user = self.model(
                email=normalize_email(email),
                name=name,
                employee_id=employee_id or None,
                cognito_sub=cognito_sub or None,
                **extra,
            )
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.full_clean(exclude=["password"])
            user.save(force_insert=True)
            users_created.send(sender=self.model, users=[user])  # the points app opens the account
        return user

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
    # Nullable / with a database default so the previous release keeps inserting users while
    # a release adds them (expand, release, contract: docs/deploy.md).
    manager = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="direct_reports",
        help_text="The employee's line manager, if recorded.",
    )
    location = models.CharField(max_length=100, blank=True, default="", db_default="")
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


class Department(models.Model):
    """A department HR manages: the list employees, the roster import, grants and reports use.

    An employee's department is stored by name on ``User.department`` (the column the previous
    releases read and write); renaming a department renames it on every employee in the same
    transaction (shop.identity.departments.department_rename), so reports keep one department under its
    current name and the admin history keeps the old one. Names are unique ignoring case and
    spacing, checked by the services rather than by a unique index: the database's collation
    decides case there (MariaDB's is case-insensitive, PostgreSQL's is not), and the free-text
    departments migrated into records may hold such near-duplicates until HR merges them.
    """

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=100, db_index=True)
    manager = models.ForeignKey(
        "shop.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_departments",
        help_text="Who runs the department, if recorded.",
    )
    location = models.CharField(max_length=100, blank=True, default="", db_default="")
    is_active = models.BooleanField(
        default=True,
        db_default=True,
        help_text="Inactive departments are no longer offered for employees or grants; reports keep them.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class IdentitySync(models.Model):
    """One change to push to the Cognito user pool for an employee, and how it went.

    Written in the same transaction as the change it follows (a registration, a deactivation),
    and performed after that transaction commits, so no network call ever happens inside one
    and a rolled-back change never reaches Cognito. A failed push stays here, visible to HR,
    until it is retried (the admin's retry action or `manage.py retry_identity_sync`).
    """

    class Action(models.TextChoices):
        INVITE = "invite", _("Invite (create the Cognito user)")
        DISABLE = "disable", _("Disable and sign out everywhere")
        ENABLE = "enable", _("Enable again")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey("shop.User", on_delete=models.CASCADE, related_name="identity_syncs")
    action = models.CharField(max_length=16, choices=Action.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Cognito sync"
        verbose_name_plural = "Cognito syncs"
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.user_id} ({self.status})"


class PendingRosterImport(models.Model):
    """An uploaded roster CSV between its preview and its confirmation (like PendingGrantImport).

    `leavers_hash` pins the set of employees the preview said would be deactivated, so the
    confirmation deactivates exactly those or refuses.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    filename = models.CharField(max_length=255, blank=True)
    content = models.TextField()
    content_hash = models.CharField(max_length=64)
    deactivate_leavers = models.BooleanField(default=False)
    leavers_hash = models.CharField(max_length=64, blank=True, default="")
    created_by = models.ForeignKey("shop.User", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"roster upload {self.filename or self.pk}"


class BrowserSession(AbstractBaseSession):
    """A browser's server-side session (the storefront's and the admin's), with its user's id.

    Django's own session row keeps the signed-in user only inside its encoded data, so every
    page read the session, decoded it, then asked for the user in a second query. Kept beside
    the data as a column, the user (with the points account) comes in the same query as the
    session (awsomeshop/sessions.py). The data stays the single source of truth: the column is
    written from it on every save, and a session whose column disagrees is looked up as Django
    would (shop.http.middleware.preloaded_user).
    """

    # Sessions go with their user; nothing else refers to them. The index serves that delete.
    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = "browser session"
        verbose_name_plural = "browser sessions"

    @classmethod
    def get_session_store_class(cls) -> type[Any]:
        # The configured engine (awsomeshop.sessions), named by the settings: the project
        # package sits above shop, so it is looked up rather than imported.
        return import_module(settings.SESSION_ENGINE).SessionStore
