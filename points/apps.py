"""Points: accounts and the append-only ledger that every balance is the sum of."""

from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "points"
    verbose_name = "Points"

    def ready(self) -> None:
        # Every new user gets a points account in the transaction that creates it.
        from points import receivers  # noqa: F401
