"""What every app shares: users, authentication, errors, health and logging."""

from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Employees and access"
