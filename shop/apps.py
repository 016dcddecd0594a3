"""What every app shares: users, authentication, errors, health and logging."""

from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Employees and access"

    def ready(self) -> None:
        # Registers the OpenAPI extension for the bearer-token authentication.
        # Registers the checks that make production fail closed.
        from shop import (
            checks,  # noqa: F401
            openapi,  # noqa: F401
        )

        # Connects the receiver that rebuilds the token verifier when its settings change.
        from shop.auth import factory  # noqa: F401
