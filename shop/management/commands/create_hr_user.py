"""Create (or promote) an HR user of the admin: staff, in the HR group, with a password."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from shop.access.roles import HR_GROUP_NAME
from shop.identity.services import user_create
from shop.models import User, normalize_email

PASSWORD_ENV = "HR_USER_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create an HR user for the admin (staff, HR group). The password comes from --password, "
        f"else the {PASSWORD_ENV} environment variable, else a prompt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--employee-id", default=None)
        parser.add_argument("--password", default=None, help=f"Prefer {PASSWORD_ENV} or the prompt.")
        parser.add_argument(
            "--on-roster",
            action="store_true",
            help="a new account is also an employee on the roster (receives grants from other HR "
            "users); by default a new HR account only runs the back office",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = normalize_email(options["email"])
        password = options["password"] or os.environ.get(PASSWORD_ENV) or self._prompt()
        group = Group.objects.filter(name=HR_GROUP_NAME).first()
        if group is None:
            raise CommandError(f"The {HR_GROUP_NAME} group does not exist: run 'manage.py migrate' first.")
        existing = User.objects.filter(email=email).first()
        try:
            validate_password(password, user=existing or User(email=email, name=options["name"]))
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from exc
        with transaction.atomic():
            if existing is None:
                # Off the roster unless asked: "grant to all" pays employees, not the back office.
                user = user_create(
                    email=email,
                    name=options["name"],
                    employee_id=options["employee_id"],
                    password=password,
                    is_employee=options["on_roster"],
                )
                verb = "Created"
            else:
                user = existing
                user.set_password(password)
                verb = "Updated"
            user.is_staff = True
            user.is_active = True
            user.save(update_fields=["password", "is_staff", "is_active"])
            user.groups.add(group)
        self.stdout.write(f"{verb} HR user {user.email}: staff, in the {HR_GROUP_NAME} group.")

    def _prompt(self) -> str:
        if not sys.stdin.isatty():
            # getpass would fall back to echoing the password (with a GetPassWarning) and then
            # read nothing: say what to do instead.
            raise CommandError(f"No password given: use --password, {PASSWORD_ENV} or a terminal.")
        try:
            first = getpass.getpass("Password: ")
            second = getpass.getpass("Password (again): ")
        except EOFError as exc:
            raise CommandError(f"No password given: use --password, {PASSWORD_ENV} or a terminal.") from exc
        if first != second:
            raise CommandError("The passwords do not match.")
        if not first:
            raise CommandError("The password is empty.")
        return first
