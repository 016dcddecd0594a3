"""Orders: redemption of points for products, refunds, and idempotent order placement."""

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"
