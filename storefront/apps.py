from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "storefront"
    verbose_name = "Storefront"

    def ready(self) -> None:
        # Registers the checks on employee sign-in's configuration.
        from storefront.signin import checks  # noqa: F401
