"""What every app shares: users, authentication, errors, health and logging."""

from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Employees and access"

    def ready(self) -> None:
        # Registers the OpenAPI extension for the bearer-token authentication, the checks that
        # make production fail closed, and the system checks on EMPLOYEE_PROVISIONING and
        # SIGN_IN_RECORDS_RETENTION_DAYS. Warns when HR's company sign-in is only partly configured.
        from shop.access import retention  # noqa: F401
        from shop.access.admin_sign_in import checks as admin_sign_in_checks  # noqa: F401

        # Connects the receiver that rebuilds the token verifier when its settings change.
        from shop.auth import (
            checks,  # noqa: F401
            factory,  # noqa: F401
        )
        from shop.http import openapi  # noqa: F401
        from shop.identity import provisioning  # noqa: F401
