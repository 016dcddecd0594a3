"""Points: accounts and the append-only ledger that every balance is the sum of."""

from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "points"
    verbose_name = "Points"
