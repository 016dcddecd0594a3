"""Print a one-time storefront sign-in link for an employee (local development only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from shop.auth.oidc_sign_in import SignInRefused
from shop.models import User, normalize_email
from storefront.signin.links import sign_in_link_token


class Command(BaseCommand):
    help = (
        "Print a one-time link that signs a registered, active employee in to the storefront "
        "(valid for STOREFRONT_SIGN_IN_LINK_SECONDS, 15 minutes by default). Refused in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The employee's email address.")
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="The address the storefront is served on (default http://127.0.0.1:8000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.STOREFRONT_LOCAL_SIGN_IN:
            raise CommandError(
                "One-time sign-in links are switched off here (STOREFRONT_LOCAL_SIGN_IN; production "
                "never allows them). Employees sign in with their company account."
            )
        email = normalize_email(options["email"])
        user = User.objects.filter(email=email).first()
        if user is None:
            raise CommandError(f"No employee is registered with {email}; HR registers employees first.")
        try:
            token = sign_in_link_token(user=user)
        except SignInRefused as exc:
            raise CommandError(f"{email} cannot sign in to the storefront: {exc.detail}") from exc
        path = reverse("storefront:sign-in-link", kwargs={"token": token})
        self.stdout.write(f"{options['base_url'].rstrip('/')}{path}")
